/**
 * Error codes of the plugin registry, installer and trimmed builds. They are
 * spread into the one core registry (core/src/errors.ts) so coreError() and
 * the uniqueness test cover them; they live here to keep that file small.
 */
import type { CoreErrorSpec } from '../errors.ts';

export const REGISTRY_ERRORS: Record<string, CoreErrorSpec> = {
  CORE_ERR_CATALOG_INVALID: {
    message: 'A plugin catalog (plugin-registry.json) is invalid; fix the fields listed',
    httpStatus: 502,
    hint: 'Catalogs are validated against core/src/registry/catalog-schema.json; details lists the ajv errors.',
  },
  CORE_ERR_CATALOG_UNREACHABLE: {
    message: 'A plugin catalog could not be read; check the path or URL in plugins.registries',
    httpStatus: 502,
    hint: 'plugins.registries lists file paths (relative to the working folder) and http(s) URLs.',
  },
  CORE_ERR_REGISTRY_VERSION_NOT_FOUND: {
    message: 'No configured registry offers this plugin version; check GET /api/admin/registry',
    httpStatus: 404,
    hint: 'The registry listing shows every version installable on this host version.',
  },
  CORE_ERR_REGISTRY_VERSION_EXISTS: {
    message: 'This plugin version is already published; published versions are never overwritten, bump the version',
    httpStatus: 409,
    hint: 'switchboard-plugin publish refuses to replace an entry so that an integrity once seen stays valid.',
  },
  CORE_ERR_INTEGRITY_MISMATCH: {
    message: 'The plugin tarball does not match its published sha512 integrity; it was altered or corrupted, nothing was installed',
    httpStatus: 422,
    hint: 'Fetch the tarball again from the publisher; never install a tarball whose digest differs from the catalog.',
  },
  CORE_ERR_SIGNATURE_INVALID: {
    message: 'The plugin signature does not verify with the publisher key; nothing was installed',
    httpStatus: 422,
    hint: 'A wrong signature means the tarball, its manifest or the catalog entry was changed after signing; no override accepts it.',
  },
  CORE_ERR_SIGNATURE_MISSING: {
    message: 'The plugin is unsigned or signed by a key not in the trust folder; add the publisher key to plugins.trustDir or pass allowUnsigned with a reason',
    httpStatus: 422,
    hint: 'An override applies to one plugin id, needs a reason, and is recorded with who and when in plugin_trust_overrides.',
  },
  CORE_ERR_PACKAGE_UNSAFE: {
    message: 'The plugin tarball holds an entry that could escape its folder (absolute path, .., link or device); nothing was unpacked',
    httpStatus: 422,
    hint: 'A plugin tarball holds only regular files and folders with relative paths; pack it with switchboard-plugin pack.',
  },
  CORE_ERR_PACKAGE_TOO_LARGE: {
    message: 'The plugin tarball is larger than plugins.maxUploadBytes; raise the limit or make the plugin smaller',
    httpStatus: 413,
    hint: 'The limit applies to uploads and registry downloads, and to the unpacked size (10x).',
  },
  CORE_ERR_PACKAGE_MISMATCH: {
    message: 'The tarball manifest does not match what was asked for (id, version or manifest digest); nothing was installed',
    httpStatus: 422,
    hint: 'The catalog entry and the plugin.json inside the tarball must name the same id and version.',
  },
  CORE_ERR_PLUGIN_INSTALLED: {
    message: 'This plugin is already installed; use upgrade to change its version',
    httpStatus: 409,
    hint: 'POST /api/admin/plugins/:id/upgrade with { version } or switchboard plugins upgrade.',
  },
  CORE_ERR_PLUGIN_NOT_MANAGED: {
    message: 'This plugin was not installed from a registry or upload (it ships with the host); remove it from the build instead',
    httpStatus: 409,
    hint: 'Only plugins under plugins.installDir can be upgraded or uninstalled through the API.',
  },
  CORE_ERR_DEPENDENCY_UNSATISFIED: {
    message: 'Installing this version would break a dependency; install or upgrade the plugins named first',
    httpStatus: 409,
    hint: 'Both the new plugin\'s depends and the ranges other installed plugins ask of it are checked on every install and upgrade.',
  },
  CORE_ERR_UPGRADE_FAILED: {
    message: 'The upgrade failed and the previous version was restored (files and database)',
    httpStatus: 500,
    hint: 'details names the failing step; the previous version keeps running.',
  },
  CORE_ERR_BUILD_PROFILE_INVALID: {
    message: 'The build profile is invalid or names a plugin that cannot be found; fix the profile',
    httpStatus: 500,
    hint: 'Profiles live in config/profiles/*.json: { "name", "plugins": [ids], "pluginDirs": [folders] }.',
  },
  CORE_ERR_BUILD_FAILED: {
    message: 'Compiling the TypeScript to JavaScript failed; fix the error named (npx tsc -p . shows it too) and build again',
    httpStatus: 500,
    hint: 'npm run build (run by npm ci) and switchboard build compile core, sdk and plugins with esbuild into dist/ beside src/.',
  },
};
