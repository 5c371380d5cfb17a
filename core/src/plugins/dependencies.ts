import semver from 'semver';
import type { PluginManifest } from './manifest.ts';

export interface Resolution {
  /** Ids of the plugins that can run, dependencies before dependents (ties by id). */
  order: string[];
  /** Plugin id → why it cannot run; a dependent's reason names the whole chain. */
  failed: Map<string, string>;
}

// Prereleases count: a host at 1.0.0-rc.1 must be able to load plugins asking for ^1.0.0-rc.
const RANGE_OPTIONS = { includePrerelease: true } as const;

/**
 * Decide which plugins can run and in what order. A plugin fails when the host
 * version is outside its engines.switchboard, when a dependency is missing or
 * out of range, when it sits on a dependency cycle, or when anything it
 * depends on failed. Optional dependencies only order setup and never fail.
 * Callers pass unique ids (discovery already reports duplicates).
 */
export function resolvePlugins(plugins: Array<{ manifest: PluginManifest }>, hostVersion: string): Resolution {
  const byId = new Map<string, PluginManifest>();
  for (const { manifest } of plugins) if (!byId.has(manifest.id)) byId.set(manifest.id, manifest);
  const ids = [...byId.keys()].sort();
  const failed = new Map<string, string>();

  const cycles = findCycles(byId, ids);
  for (const id of ids) {
    const manifest = byId.get(id)!;
    const reasons = [...directProblems(manifest, byId, hostVersion)];
    const cycle = cycles.get(id);
    if (cycle) reasons.unshift(`cycle: ${cycle.join(' → ')}`);
    if (reasons.length > 0) failed.set(id, reasons.join('; '));
  }
  propagateFailures(byId, ids, failed);
  return { order: topologicalOrder(byId, ids, failed), failed };
}

function directProblems(manifest: PluginManifest, byId: Map<string, PluginManifest>, hostVersion: string): string[] {
  const reasons: string[] = [];
  const engine = manifest.engines.switchboard;
  if (!semver.satisfies(hostVersion, engine, RANGE_OPTIONS)) {
    reasons.push(`engines.switchboard ${engine} is not satisfied by host ${hostVersion}`);
  }
  for (const [dep, range] of sortedEntries(manifest.depends)) {
    const target = byId.get(dep);
    if (!target) reasons.push(`depends on ${dep}@${range} → ${dep} is not installed`);
    else if (!semver.satisfies(target.version, range, RANGE_OPTIONS)) {
      reasons.push(`depends on ${dep}@${range} → ${dep} ${target.version} does not satisfy ${range}`);
    }
  }
  return reasons;
}

/** Fail every plugin whose required dependency failed, carrying the dependency's reason along. */
function propagateFailures(byId: Map<string, PluginManifest>, ids: string[], failed: Map<string, string>): void {
  // Each pass fails at least one more plugin or stops, so ids.length passes bound it.
  for (let pass = 0; pass <= ids.length; pass++) {
    let changed = false;
    for (const id of ids) {
      if (failed.has(id)) continue;
      for (const [dep] of sortedEntries(byId.get(id)!.depends)) {
        const reason = failed.get(dep);
        if (reason === undefined) continue;
        failed.set(id, `dependency ${dep} failed: ${reason}`);
        changed = true;
        break;
      }
    }
    if (!changed) return;
  }
}

/**
 * For each plugin on a cycle of required dependencies, the cycle written from
 * that plugin back to itself (`a → b → a`). Uses Tarjan's strongly connected
 * components, then a breadth-first walk inside the component for the path.
 */
function findCycles(byId: Map<string, PluginManifest>, ids: string[]): Map<string, string[]> {
  const edges = (id: string): string[] => sortedEntries(byId.get(id)!.depends).map(([dep]) => dep).filter((dep) => byId.has(dep));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const dep of edges(id)) {
      if (!index.has(dep)) {
        visit(dep);
        low.set(id, Math.min(low.get(id)!, low.get(dep)!));
      } else if (onStack.has(dep)) {
        low.set(id, Math.min(low.get(id)!, index.get(dep)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      components.push(component);
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);

  const cycles = new Map<string, string[]>();
  for (const component of components) {
    const members = new Set(component);
    const selfLoop = component.length === 1 && edges(component[0]!).includes(component[0]!);
    if (component.length === 1 && !selfLoop) continue;
    for (const id of component) cycles.set(id, shortestCycle(id, members, edges));
  }
  return cycles;
}

function shortestCycle(start: string, members: Set<string>, edges: (id: string) => string[]): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const dep of edges(id)) {
      if (!members.has(dep)) continue;
      if (dep === start) {
        const path = [start];
        for (let at: string | undefined = id; at !== undefined && at !== start; at = previous.get(at)) path.splice(1, 0, at);
        path.push(start);
        return path;
      }
      if (!previous.has(dep) && dep !== start) {
        previous.set(dep, id);
        queue.push(dep);
      }
    }
  }
  return [start, start];
}

/**
 * Kahn's algorithm over the plugins that can run, with required and (present,
 * in-range) optional dependencies as edges, always taking the smallest ready
 * id. If only optional edges remain on a cycle, the smallest plugin whose
 * required dependencies are done goes next: optional links never block.
 */
function topologicalOrder(byId: Map<string, PluginManifest>, ids: string[], failed: Map<string, string>): string[] {
  const ok = ids.filter((id) => !failed.has(id));
  const okSet = new Set(ok);
  const required = new Map<string, Set<string>>();
  const optional = new Map<string, Set<string>>();
  for (const id of ok) {
    const manifest = byId.get(id)!;
    required.set(id, new Set(Object.keys(manifest.depends ?? {}).filter((dep) => okSet.has(dep))));
    const present = Object.entries(manifest.optionalDepends ?? {}).filter(
      ([dep, range]) => okSet.has(dep) && dep !== id && semver.satisfies(byId.get(dep)!.version, range, RANGE_OPTIONS),
    );
    optional.set(id, new Set(present.map(([dep]) => dep)));
  }
  const order: string[] = [];
  const done = new Set<string>();
  const pending = new Set(ok);
  const waitsOn = (id: string, set: Map<string, Set<string>>): boolean => [...set.get(id)!].some((dep) => !done.has(dep));
  while (pending.size > 0) {
    const candidates = [...pending].sort();
    const next =
      candidates.find((id) => !waitsOn(id, required) && !waitsOn(id, optional)) ??
      candidates.find((id) => !waitsOn(id, required));
    // Unreachable: required cycles failed above, so some plugin is always ready.
    if (next === undefined) break;
    pending.delete(next);
    done.add(next);
    order.push(next);
  }
  return order;
}

function sortedEntries(map: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
