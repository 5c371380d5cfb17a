/**
 * Static files for pages: a theme's assets (/assets/themes/<name>/…), a
 * plugin's manifest `ui.assets` folder (/assets/plugins/<id>/…, only while
 * the plugin is active) and the core's own browser code (/assets/core/…,
 * from core/public). A path that leaves its folder, by `..` or a symlink,
 * is a 404 like any missing file; dotfiles are never served. Files go out
 * through @fastify/static (content type, ETag, Last-Modified, ranges).
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { coreError } from '../errors.ts';
import { sendCoreError } from './error-reply.ts';

/** How long browsers may reuse an asset before revalidating it (ETag). */
export const ASSET_MAX_AGE_SECONDS = 600;

export interface AssetSources {
  /** Assets folder of an installed theme. */
  themeAssets(name: string): string | undefined;
  /** Assets folder of a plugin that is active now, if its manifest names one. */
  pluginAssets(id: string): string | undefined;
  /** core/public */
  coreAssets: string;
}

export function registerAssetRoutes(app: FastifyInstance, sources: AssetSources): void {
  app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: sources.coreAssets, serve: false, dotfiles: 'deny', index: false });
    const config = { role: 'public' } as const;
    scope.get<{ Params: { name: string; '*': string } }>('/assets/themes/:name/*', { config }, async (request, reply) =>
      sendInside(reply, sources.themeAssets(request.params.name), request.params['*'], request.url));
    scope.get<{ Params: { id: string; '*': string } }>('/assets/plugins/:id/*', { config }, async (request, reply) =>
      sendInside(reply, sources.pluginAssets(request.params.id), request.params['*'], request.url));
    scope.get<{ Params: { '*': string } }>('/assets/core/*', { config }, async (request, reply) =>
      sendInside(reply, sources.coreAssets, request.params['*'], request.url));
  });
}

function sendInside(reply: FastifyReply, root: string | undefined, wanted: string, url: string): FastifyReply {
  const file = root ? fileInside(root, wanted) : undefined;
  if (!root || !file) return sendCoreError(reply, coreError('CORE_ERR_ROUTE_NOT_FOUND', `GET ${url}`));
  reply.header('cache-control', `public, max-age=${ASSET_MAX_AGE_SECONDS}`);
  reply.header('x-content-type-options', 'nosniff');
  return reply.sendFile(file.relative, file.root, { cacheControl: false, dotfiles: 'deny', index: false });
}

/** The file's path relative to the real root, or undefined when it would leave the root or is hidden. */
export function fileInside(root: string, wanted: string): { root: string; relative: string } | undefined {
  if (!wanted || wanted.includes('\0') || wanted.split(/[/\\]/).some((part) => part.startsWith('.'))) return undefined;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  const target = resolve(realRoot, wanted);
  if (!within(realRoot, target)) return undefined;
  let realTarget: string;
  try {
    realTarget = realpathSync(target);
  } catch {
    return undefined; // missing: 404
  }
  if (!within(realRoot, realTarget)) return undefined;
  return { root: realRoot, relative: relative(realRoot, realTarget).split(sep).join('/') };
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
