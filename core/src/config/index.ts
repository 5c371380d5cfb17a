export { loadConfig, configSchema, type LoadConfigOptions } from './load-config.ts';
export { ConfigError } from './config-error.ts';
export { CONFIG_FILE_VARIABLE } from './env-overrides.ts';
export { parseJson, JsonSyntaxError } from './parse-json.ts';
export { createAjv } from './ajv.ts';
export type { SwitchboardConfig, SiteConfig, SiteBranding, ConfigProblem } from './types.ts';
