// Idle reports: the server turns them into Inactive / Away after the site's
// minutes. Reported over the live channel, or over HTTP when it is down.

const CHECK_MS = 30_000;
const IDLE_AFTER_S = 60;

export class IdleReporter {
  #last = Date.now();
  #reportedIdle = false;

  constructor(sb, api) {
    this.sb = sb;
    this.api = api;
  }

  start() {
    const active = () => {
      this.#last = Date.now();
      if (this.#reportedIdle) {
        this.#reportedIdle = false;
        void this.#report(0);
      }
    };
    for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'focus']) window.addEventListener(type, active, { passive: true, capture: true });
    setInterval(() => {
      const idleSeconds = Math.floor((Date.now() - this.#last) / 1000);
      if (idleSeconds >= IDLE_AFTER_S) {
        this.#reportedIdle = true;
        void this.#report(idleSeconds);
      }
    }, CHECK_MS);
  }

  async #report(idleSeconds) {
    try {
      await this.sb.send('presence.idle', { idleSeconds });
    } catch {
      await this.api('/me/idle', { method: 'PUT', body: { idleSeconds } }).catch(() => {});
    }
  }
}
