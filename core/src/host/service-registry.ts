/**
 * Named services between plugins. The manifest declares both sides
 * (`provides`, `permissions.services`), so a consumer's needs are visible
 * before any code runs.
 */
import { coreError } from '../errors.ts';

interface Provided {
  pluginId: string;
  implementation: unknown;
}

export class ServiceRegistry {
  readonly #services = new Map<string, Provided>();
  readonly #isActive: (pluginId: string) => boolean;

  constructor(isActive: (pluginId: string) => boolean) {
    this.#isActive = isActive;
  }

  provide(pluginId: string, name: string, implementation: unknown): void {
    this.#services.set(name, { pluginId, implementation });
  }

  /** undefined when nobody provides it or the provider is not running. */
  lookup(name: string): unknown {
    const provided = this.#services.get(name);
    if (!provided || !this.#isActive(provided.pluginId)) return undefined;
    return provided.implementation;
  }

  require(name: string, consumer: string): unknown {
    const found = this.lookup(name);
    if (found === undefined) throw coreError('CORE_ERR_SERVICE_UNAVAILABLE', `${consumer} asked for "${name}"`);
    return found;
  }

  removePlugin(pluginId: string): void {
    for (const [name, provided] of this.#services) if (provided.pluginId === pluginId) this.#services.delete(name);
  }
}
