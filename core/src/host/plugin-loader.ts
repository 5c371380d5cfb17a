/**
 * The plugin lifecycle up to "set up": discover → validate → resolve
 * dependencies → import → install (migrations) → setup, in dependency
 * order. Any step failing marks that plugin failed (and its dependents);
 * nothing here throws for a plugin's sake.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { isDefinedPlugin } from '@switchboard/sdk';
import { coreError } from '../errors.ts';
import { discoverPlugins } from '../plugins/discovery.ts';
import { resolvePlugins } from '../plugins/dependencies.ts';
import { createAjv } from '../config/ajv.ts';
import { PLUGIN_CONFIG_PROFILE, precompiledValidator } from '../config/precompiled.ts';
import { createPluginContext, type ContextDeps } from './plugin-context.ts';
import { PluginRuntime } from './plugin-runtime.ts';
import { addEntities } from './entity-registry.ts';
import { importModule } from './import-module.ts';
import { reasonOf, withDeadline } from './containment.ts';
import { pluginCodePath } from '../build/plugin-code.ts';
import type { BreakerOptions } from './breaker.ts';
import type { HostStorage } from './storage-bridge.ts';

/** A plugin folder that never got a runtime (bad manifest, duplicate id). */
export interface BrokenPlugin {
  id: string;
  dir: string;
  error: string;
}

export interface LoadResult {
  plugins: Map<string, PluginRuntime>;
  broken: BrokenPlugin[];
  /** Ids in dependency order, including ones that failed later. */
  order: string[];
}

export interface LoaderOptions {
  dirs: string[];
  hostVersion: string;
  breaker: BreakerOptions;
  setupTimeoutMs: number;
  storage: HostStorage;
  contextDeps: ContextDeps;
  onTrip(plugin: PluginRuntime, reason: string): void;
  /** Filled as plugins are found, so lookups made during setup (services) see earlier plugins. */
  plugins: Map<string, PluginRuntime>;
}

export async function loadPlugins(options: LoaderOptions): Promise<LoadResult> {
  const { log } = options.contextDeps;
  const discovered = await discoverPlugins(options.dirs);
  const broken: BrokenPlugin[] = [];
  const plugins = options.plugins;
  for (const found of discovered) {
    if (!found.manifest) {
      broken.push({ id: found.id, dir: found.dir, error: found.error ?? 'invalid manifest' });
      log.error({ plugin: found.id, dir: found.dir, code: 'CORE_ERR_MANIFEST_INVALID' }, `plugin failed: ${found.error}`);
      continue;
    }
    plugins.set(found.manifest.id, new PluginRuntime(found.dir, found.manifest, options.breaker, options.onTrip));
  }

  const resolution = resolvePlugins([...plugins.values()].map((p) => ({ manifest: p.manifest })), options.hostVersion);
  for (const [id, reason] of resolution.failed) {
    plugins.get(id)?.fail(reason);
    log.error({ plugin: id, code: 'CORE_ERR_DEPENDENCY_FAILED' }, `plugin failed: ${reason}`);
  }
  const order = [...resolution.order, ...[...resolution.failed.keys()].sort()];

  for (const id of resolution.order) {
    const plugin = plugins.get(id)!;
    const blocker = Object.keys(plugin.manifest.depends ?? {}).find((dep) => plugins.get(dep)?.state !== 'ready');
    if (blocker) {
      plugin.fail(`depends on ${blocker}, which failed: ${plugins.get(blocker)?.error ?? 'unknown'}`);
    } else {
      await bringUp(plugin, options);
    }
    plugin.setupOpen = false;
    if (plugin.state === 'failed') log.error({ plugin: id }, `plugin failed: ${plugin.error}`);
    await options.storage.saveInstallation(plugin.id, plugin.version, plugin.state, plugin.error);
  }
  for (const b of broken) await options.storage.saveInstallation(b.id, '0.0.0', 'failed', b.error);
  for (const id of resolution.failed.keys()) {
    const p = plugins.get(id)!;
    await options.storage.saveInstallation(p.id, p.version, p.state, p.error);
  }
  return { plugins, broken, order };
}

export async function bringUp(plugin: PluginRuntime, options: LoaderOptions): Promise<void> {
  const deps = options.contextDeps;
  try {
    await importMain(plugin);
    await addEntities(deps.dataSource, plugin.entities);
    await options.storage.installMigrations(plugin);
    plugin.state = 'installed';
    plugin.configValidator = compileConfigSchema(plugin, deps);
    plugin.context = createPluginContext(plugin, deps);
    for (const [slot, template] of Object.entries(plugin.manifest.ui?.fragments ?? {})) {
      plugin.context.ui.fragment(slot, template);
    }
    await withDeadline(() => plugin.definition!.setup(plugin.context!), options.setupTimeoutMs);
    plugin.state = 'ready';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const coded = typeof code === 'string' && code.startsWith('CORE_ERR_') ? `${code}: ` : '';
    const stage = plugin.state === 'installed' ? 'CORE_ERR_PLUGIN_SETUP_FAILED: setup threw ' : '';
    plugin.fail(`${stage}${coded}${reasonOf(err)}`);
    plugin.routes.length = 0;
    deps.sip.removePlugin(plugin.id);
    deps.services.removePlugin(plugin.id);
    deps.fragments.removePlugin(plugin.id);
    deps.live.removePlugin(plugin.id);
  }
}

async function importMain(plugin: PluginRuntime): Promise<void> {
  let file = resolve(plugin.dir, plugin.manifest.main ?? 'src/index.ts');
  let mod: { default?: unknown };
  try {
    // Compiled host: the plugin's compiled sibling when there is a fresh one, else its TypeScript through tsx.
    file = await pluginCodePath(plugin.dir, plugin.manifest.main ?? 'src/index.ts');
    mod = await importModule<{ default?: unknown }>(pathToFileURL(file).href);
  } catch (err) {
    throw coreError('CORE_ERR_PLUGIN_MAIN_INVALID', `cannot import ${file}: ${reasonOf(err)}`);
  }
  if (!isDefinedPlugin(mod.default)) throw coreError('CORE_ERR_PLUGIN_MAIN_INVALID', file);
  plugin.definition = mod.default;
  plugin.entities = [...(mod.default.entities ?? [])];
  for (const entity of plugin.entities) {
    const table = entity.options.tableName ?? entity.options.name;
    if (!table.startsWith(plugin.tablePrefix)) {
      throw coreError('CORE_ERR_TABLE_PREFIX', `${plugin.id}: table "${table}" must start with "${plugin.tablePrefix}"`);
    }
  }
}

/**
 * One ajv per host (keyed by its context deps) for every plugin's config
 * schema: building an instance with its formats costs more than compiling a
 * small schema. A schema whose $id another plugin already used gets an
 * instance of its own rather than clashing.
 */
const configAjvs = new WeakMap<object, ReturnType<typeof createAjv>>();

function compileConfigSchema(plugin: PluginRuntime, host: object): ValidateFunction {
  const schema = plugin.manifest.config ?? { type: 'object' };
  // The build compiled the schemas of the plugins in the tree (precompiled.ts); others are compiled here.
  const built = precompiledValidator(PLUGIN_CONFIG_PROFILE, schema);
  if (built) return built;
  const fresh = () => createAjv(PLUGIN_CONFIG_PROFILE.options);
  let ajv = configAjvs.get(host);
  if (!ajv) configAjvs.set(host, (ajv = fresh()));
  const id = (schema as { $id?: unknown }).$id;
  return (typeof id === 'string' && ajv.getSchema(id) ? fresh() : ajv).compile(schema);
}
