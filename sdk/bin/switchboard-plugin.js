#!/usr/bin/env node
// The installed `switchboard-plugin` bin: there is no build step, so register
// tsx first and then load the TypeScript entry point.
import { register } from 'tsx/esm/api';

register();
await import('./switchboard-plugin.ts');
