/**
 * UI fragments plugins contribute to theme slots. Rendering is per site and
 * only includes plugins enabled there; a fragment that fails to render is
 * left out (with a marker) so a bad plugin cannot break the page.
 */
import Handlebars from 'handlebars';

export type FragmentTemplate = (data: unknown) => string;

interface Fragment {
  pluginId: string;
  slot: string;
  template: FragmentTemplate;
}

export interface SlotRenderScope {
  /** Plugin ids in render order (dependency order). */
  order: readonly string[];
  /** Whether the plugin is enabled for the site and not failed. */
  isActive(pluginId: string): boolean;
  /** Called when a fragment throws while rendering. */
  onError(pluginId: string, err: unknown): void;
  /** Template data for one plugin (its site config, the site). */
  dataFor(pluginId: string): Record<string, unknown>;
}

/** One handlebars environment per host so plugin helpers cannot leak into another host. */
export class FragmentRegistry {
  readonly #hbs = Handlebars.create();
  readonly #fragments = new Map<string, Fragment>();

  compile(source: string): FragmentTemplate {
    // Escaping is handlebars' default for {{ }}; strict catches typos in field names.
    const template = this.#hbs.compile(source, { strict: false, noEscape: false });
    return (data) => template(data);
  }

  add(pluginId: string, slot: string, template: FragmentTemplate): void {
    this.#fragments.set(`${pluginId}\u0000${slot}`, { pluginId, slot, template });
  }

  /** Every slot some plugin has a fragment for (themes place the ones they do not name). */
  slots(): Set<string> {
    return new Set([...this.#fragments.values()].map((f) => f.slot));
  }

  removePlugin(pluginId: string): void {
    for (const [key, fragment] of this.#fragments) if (fragment.pluginId === pluginId) this.#fragments.delete(key);
  }

  render(slot: string, scope: SlotRenderScope): string {
    const parts: string[] = [];
    for (const pluginId of scope.order) {
      const fragment = this.#fragments.get(`${pluginId}\u0000${slot}`);
      if (!fragment || !scope.isActive(pluginId)) continue;
      const attrs = `data-plugin="${escapeAttr(pluginId)}" data-slot="${escapeAttr(slot)}"`;
      try {
        parts.push(`<div ${attrs}>${fragment.template(scope.dataFor(pluginId))}</div>`);
      } catch (err) {
        scope.onError(pluginId, err);
        parts.push(`<div ${attrs} data-error="render-failed"></div>`);
      }
    }
    return parts.join('\n');
  }
}

function escapeAttr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
