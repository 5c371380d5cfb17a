/**
 * Which app connections route which SIP methods. Several connections may
 * route one method: new requests are spread among them round-robin, as
 * drachtio-server does.
 */
export class RouteTable<C> {
  readonly #routes = new Map<string, C[]>();
  readonly #offsets = new Map<string, number>();

  add(method: string, conn: C): void {
    const key = method.toLowerCase();
    const list = this.#routes.get(key) ?? [];
    if (!list.includes(conn)) list.push(conn);
    this.#routes.set(key, list);
  }

  remove(method: string, conn: C): void {
    const key = method.toLowerCase();
    const list = (this.#routes.get(key) ?? []).filter((c) => c !== conn);
    if (list.length) this.#routes.set(key, list);
    else this.#routes.delete(key);
  }

  removeConnection(conn: C): void {
    for (const key of [...this.#routes.keys()]) this.remove(key, conn);
  }

  /** Next connection for the method, or undefined when none routes it. */
  pick(method: string): C | undefined {
    const key = method.toLowerCase();
    const list = this.#routes.get(key);
    if (!list?.length) return undefined;
    const i = (this.#offsets.get(key) ?? 0) % list.length;
    this.#offsets.set(key, i + 1);
    return list[i];
  }

  /** Every connection routing the key (used for cdr:* subscriptions). */
  all(key: string): C[] {
    return [...(this.#routes.get(key.toLowerCase()) ?? [])];
  }

  /** True when a connection routing the method satisfies `pred` (no copy of the list). */
  some(method: string, pred: (c: C) => boolean): boolean {
    return this.#routes.get(method.toLowerCase())?.some(pred) ?? false;
  }

  has(method: string): boolean {
    return (this.#routes.get(method.toLowerCase())?.length ?? 0) > 0;
  }
}
