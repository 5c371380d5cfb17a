/**
 * The host version, read from core/package.json without importing the host
 * (author tooling needs it and should not load the whole core to get it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CORE_VERSION: string = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
