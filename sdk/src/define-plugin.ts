import type { EntitySchema } from 'typeorm';
import type { PluginContext, SiteInfo } from './context.ts';

/**
 * Marks an object as a plugin definition. `Symbol.for` so that core can
 * recognise it without importing the SDK at runtime.
 */
export const PLUGIN_DEFINITION = Symbol.for('switchboard.plugin-definition');

/** What a plugin's `main` module default-exports (through `definePlugin`). */
export interface PluginDefinition<Config = Record<string, unknown>> {
  /**
   * typeorm EntitySchemas of the plugin's own tables. Table names must start
   * with the plugin id (non-alphanumerics as `_`) followed by `_`, e.g.
   * `hello_messages` for plugin `hello`; the plugin's migrations create them.
   */
  readonly entities?: EntitySchema<any>[];
  /** Called once, in dependency order, after migrations ran. Throwing marks the plugin failed. */
  setup(ctx: PluginContext<Config>): void | Promise<void>;
  /** Called when the plugin is enabled for a site (also at boot for enabled sites). */
  enable?(site: SiteInfo, ctx: PluginContext<Config>): void | Promise<void>;
  /** Called when the plugin is disabled for a site. */
  disable?(site: SiteInfo, ctx: PluginContext<Config>): void | Promise<void>;
  /** Called when the host stops; release timers and sockets here. */
  close?(ctx: PluginContext<Config>): void | Promise<void>;
}

/** A plugin definition as returned by `definePlugin`. */
export type DefinedPlugin<Config = Record<string, unknown>> = PluginDefinition<Config> & {
  readonly [PLUGIN_DEFINITION]: true;
};

/**
 * Declare a plugin. The default export of the manifest's `main` module.
 *
 * @example
 * export default definePlugin({
 *   setup(ctx) { ctx.http.get('/sites/:site/ping', async () => ({ pong: true })); },
 * });
 */
export function definePlugin<Config = Record<string, unknown>>(definition: PluginDefinition<Config>): DefinedPlugin<Config> {
  if (typeof definition?.setup !== 'function') {
    throw new TypeError('definePlugin: definition.setup must be a function');
  }
  return Object.freeze({ ...definition, [PLUGIN_DEFINITION]: true as const });
}

/** True when `value` was produced by `definePlugin`. */
export function isDefinedPlugin(value: unknown): value is DefinedPlugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_DEFINITION] === true;
}
