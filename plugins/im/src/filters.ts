/**
 * The filter chain every message passes before delivery. Built-in filters
 * (rate limit, keywords, URLs) run first, then filters other plugins added
 * through the `im.filters` service, in the order they were added. A filter
 * may pass, block (the sender is told the reason) or rewrite the body.
 */
import type { ImConfig } from './config.ts';

/** How a message came in: a SIP MESSAGE, the HTTP API, or the live WebSocket. */
export type Via = 'sip' | 'http' | 'live';

export interface ImFilterInput {
  readonly site: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly contentType: string;
  /** The body as the previous filters left it. */
  readonly body: string;
  readonly via: Via;
}

export type ImFilterVerdict =
  | { action: 'pass' }
  | { action: 'block'; reason: string; rateLimited?: boolean }
  | { action: 'rewrite'; body: string };

export interface ImFilter {
  readonly name: string;
  check(input: ImFilterInput): ImFilterVerdict | Promise<ImFilterVerdict>;
}

/** The `im.filters` service. */
export interface ImFilters {
  add(filter: ImFilter): void;
  remove(name: string): void;
}

export type ChainResult = { ok: true; body: string } | { ok: false; filter: string; reason: string; rateLimited: boolean };

export class FilterChain implements ImFilters {
  readonly #builtIn: ImFilter[];
  readonly #added: ImFilter[] = [];
  /** The config of the message being checked, so built-ins do not each look it up again. */
  #current: ImConfig | undefined;

  constructor(config: (site: string) => ImConfig) {
    const current = (site: string) => this.#current ?? config(site);
    this.#builtIn = [rateLimitFilter(current), keywordFilter(current), urlFilter(current)];
  }

  add(filter: ImFilter): void {
    if (typeof filter?.check !== 'function' || typeof filter.name !== 'string') throw new TypeError('an IM filter needs a name and a check function');
    this.remove(filter.name);
    this.#added.push(filter);
  }

  remove(name: string): void {
    const i = this.#added.findIndex((f) => f.name === name);
    if (i >= 0) this.#added.splice(i, 1);
  }

  /** Runs every filter in order; `config` is the site's config when the caller has it already. */
  async run(input: ImFilterInput, config?: ImConfig): Promise<ChainResult> {
    let body = input.body;
    for (const filter of [...this.#builtIn, ...this.#added]) {
      let pending: ImFilterVerdict | Promise<ImFilterVerdict>;
      // Built-ins are synchronous: the config is theirs for exactly this call.
      this.#current = this.#builtIn.includes(filter) ? config : undefined;
      try {
        pending = filter.check({ ...input, body });
      } finally {
        this.#current = undefined;
      }
      const verdict = await pending;
      if (verdict.action === 'block') return { ok: false, filter: filter.name, reason: verdict.reason, rateLimited: verdict.rateLimited === true };
      if (verdict.action === 'rewrite') body = verdict.body;
    }
    return { ok: true, body };
  }
}

/** At most `messages` per sender in any `windowSeconds` (SPIM control); every attempt counts. */
export function rateLimitFilter(config: (site: string) => ImConfig, now = () => Date.now()): ImFilter {
  const sent = new Map<string, number[]>();
  return {
    name: 'rate-limit',
    check({ site, sender }) {
      const { messages, windowSeconds } = config(site).rateLimit;
      const key = `${site}\n${sender}`;
      const t = now();
      const recent = (sent.get(key) ?? []).filter((at) => at > t - windowSeconds * 1000);
      if (recent.length >= messages) {
        sent.set(key, recent);
        return { action: 'block', reason: `Rate limit: at most ${messages} messages in ${windowSeconds} s`, rateLimited: true };
      }
      recent.push(t);
      sent.set(key, recent);
      // Forget idle senders so the map stays bounded by active ones.
      if (sent.size > 10_000) for (const [k, v] of sent) if (!v.some((at) => at > t - windowSeconds * 1000)) sent.delete(k);
      return { action: 'pass' };
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function keywordFilter(config: (site: string) => ImConfig): ImFilter {
  return {
    name: 'keywords',
    check({ site, body }) {
      const { words, action } = config(site).keywords;
      if (!words.length) return { action: 'pass' };
      const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
      if (!pattern.test(body)) return { action: 'pass' };
      if (action === 'block') return { action: 'block', reason: 'Blocked by the keyword filter' };
      pattern.lastIndex = 0;
      return { action: 'rewrite', body: body.replace(pattern, (w) => '*'.repeat([...w].length)) };
    },
  };
}

const URL_PATTERN = /\b(?:https?|ftp):\/\/[^\s<>"']+|\bwww\.[^\s<>"']+/gi;

/** `http://evil.example/x` becomes `hxxp://evil[.]example/x`: readable, not clickable. */
export function defang(url: string): string {
  const m = /^([a-z]+):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!m) return url.replace(/\./g, '[.]');
  const scheme = m[1]!.replace(/t/gi, 'x');
  return `${scheme}://${m[2]!.replace(/\./g, '[.]')}${m[3]}`;
}

export function urlFilter(config: (site: string) => ImConfig): ImFilter {
  return {
    name: 'urls',
    check({ site, body }) {
      const mode = config(site).urls;
      if (mode === 'allow') return { action: 'pass' };
      URL_PATTERN.lastIndex = 0;
      if (!URL_PATTERN.test(body)) return { action: 'pass' };
      if (mode === 'block') return { action: 'block', reason: 'Blocked by the URL filter: links are not allowed' };
      URL_PATTERN.lastIndex = 0;
      return { action: 'rewrite', body: body.replace(URL_PATTERN, defang) };
    },
  };
}
