/**
 * Admin API of the plugin registry: what is installable, install, upgrade,
 * uninstall and upload. Admin role only; bodies validated by schema; the
 * upload body is a size-limited raw tarball handed to the installer, which
 * checks it before anything reaches the disk.
 */
import type { FastifyInstance } from 'fastify';
import type { PluginInstaller } from '../registry/plugin-installer.ts';
import type { TokenSigner } from './token.ts';

const id = { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 40 } as const;
const version = { type: 'string', minLength: 1, maxLength: 64 } as const;
const trust = {
  allowUnsigned: { type: 'boolean' },
  reason: { type: 'string', minLength: 1, maxLength: 1000 },
} as const;

const installSchema = {
  body: { type: 'object', additionalProperties: false, required: ['id', 'version'], properties: { id, version, ...trust } },
} as const;
const upgradeSchema = {
  params: { type: 'object', required: ['id'], properties: { id } },
  body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version, ...trust } },
} as const;
const uninstallSchema = {
  params: { type: 'object', required: ['id'], properties: { id } },
  querystring: { type: 'object', additionalProperties: false, properties: { purge: { type: 'string', enum: ['true', 'false'] } } },
} as const;
const uploadSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      signature: { type: 'string', minLength: 1, maxLength: 200 },
      keyId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      allowUnsigned: { type: 'string', enum: ['true', 'false'] },
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
      upgrade: { type: 'string', enum: ['true', 'false'] },
    },
  },
} as const;

type TrustBody = { allowUnsigned?: boolean; reason?: string };

export interface RegistryRouteOptions {
  installer: PluginInstaller;
  tokens: TokenSigner;
  maxUploadBytes: number;
}

export function registerRegistryRoutes(app: FastifyInstance, options: RegistryRouteOptions): void {
  const { installer } = options;
  app.register(async (scope) => {
    // Host admins only: declared per route for the core role guard (http/role-guard.ts).
    const admin = { role: 'admin' } as const;
    const who = (request: { principal?: { subject: string } }) => request.principal?.subject ?? 'unknown';

    scope.get('/api/admin/registry', { config: admin }, async () => installer.listInstallable());
    scope.get('/api/admin/registry/overrides', { config: admin }, async () => ({ overrides: await installer.overrides() }));

    scope.post<{ Body: { id: string; version: string } & TrustBody }>('/api/admin/plugins/install', { schema: installSchema, config: admin }, async (request, reply) => {
      const { id: pluginId, version: v, ...choice } = request.body;
      return reply.code(201).send(await installer.install(pluginId, v, choice, who(request)));
    });

    scope.post<{ Params: { id: string }; Body: { version: string } & TrustBody }>('/api/admin/plugins/:id/upgrade', { schema: upgradeSchema, config: admin }, async (request) => {
      const { version: v, ...choice } = request.body;
      return installer.upgrade(request.params.id, v, choice, who(request));
    });

    scope.delete<{ Params: { id: string }; Querystring: { purge?: string } }>('/api/admin/plugins/:id', { schema: uninstallSchema, config: admin }, async (request) =>
      installer.uninstall(request.params.id, request.query.purge === 'true', who(request)));

    scope.register(async (upload) => {
      upload.addContentTypeParser(['application/gzip', 'application/x-gzip', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: options.maxUploadBytes },
        (_req, body, done) => done(null, body));
      upload.post<{ Querystring: Record<string, string | undefined> }>('/api/admin/plugins/upload', { schema: uploadSchema, bodyLimit: options.maxUploadBytes, config: admin }, async (request, reply) => {
        const q = request.query;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const outcome = await installer.installUpload(
          body,
          { ...(q.signature ? { signature: q.signature } : {}), ...(q.keyId ? { keyId: q.keyId } : {}) },
          { allowUnsigned: q.allowUnsigned === 'true', ...(q.reason ? { reason: q.reason } : {}) },
          q.upgrade === 'true',
          who(request),
        );
        return reply.code(201).send(outcome);
      });
    });
  });
}
