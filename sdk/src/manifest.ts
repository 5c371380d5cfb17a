/**
 * The manifest (`plugin.json`) types. The schema lives in core
 * (core/src/plugins/manifest-schema.json), which validates every manifest
 * with ajv before a plugin is loaded.
 */
export type { PluginManifest, PluginPermissions } from '@switchboard/core';
