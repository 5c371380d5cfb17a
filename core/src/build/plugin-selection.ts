/**
 * Which plugin folders a profile selects: the named ids plus, transitively,
 * everything they `depend` on, found in the profile's plugin folders and
 * checked with the same resolver the host uses at boot. Optional
 * dependencies come along only when the profile names them too.
 */
import { resolve } from 'node:path';
import { discoverPlugins, type DiscoveredPlugin } from '../plugins/discovery.ts';
import { resolvePlugins } from '../plugins/dependencies.ts';
import type { PluginManifest } from '../plugins/manifest.ts';
import { coreError } from '../errors.ts';

export interface SelectedPlugin {
  id: string;
  dir: string;
  manifest: PluginManifest;
  /** Named by the profile, or pulled in as a dependency of `neededBy`. */
  reason: 'named' | { neededBy: string };
}

export async function selectPlugins(sourceRoot: string, pluginDirs: string[], ids: string[], hostVersion: string): Promise<{ selected: SelectedPlugin[]; candidates: DiscoveredPlugin[] }> {
  const candidates = await discoverPlugins(pluginDirs.map((d) => resolve(sourceRoot, d)));
  const byId = new Map(candidates.filter((c) => c.manifest).map((c) => [c.id, c]));
  const selected = new Map<string, SelectedPlugin>();
  const queue: Array<{ id: string; reason: SelectedPlugin['reason'] }> = ids.map((id) => ({ id, reason: 'named' as const }));
  // Each id is added once, so the queue is bounded by the candidate count.
  while (queue.length > 0) {
    const { id, reason } = queue.shift()!;
    if (selected.has(id)) continue;
    const found = byId.get(id);
    if (!found?.manifest) {
      const broken = candidates.find((c) => c.id === id);
      const why = broken?.error ?? `not found in ${pluginDirs.join(', ')}`;
      const by = reason === 'named' ? 'named by the profile' : `needed by ${reason.neededBy}`;
      throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', `plugin ${id} (${by}): ${why}`);
    }
    selected.set(id, { id, dir: found.dir, manifest: found.manifest, reason });
    for (const dep of Object.keys(found.manifest.depends ?? {})) queue.push({ id: dep, reason: { neededBy: id } });
  }
  const resolution = resolvePlugins([...selected.values()], hostVersion);
  if (resolution.failed.size > 0) {
    const reasons = [...resolution.failed].map(([id, why]) => `${id}: ${why}`);
    throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', reasons.join('; '), { failed: Object.fromEntries(resolution.failed) });
  }
  return { selected: resolution.order.map((id) => selected.get(id)!), candidates };
}
