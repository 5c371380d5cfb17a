/**
 * The CLI's view of a running host: it talks to the admin HTTP API, so a
 * change goes through the same checks as the web admin and takes effect in
 * the running process at once.
 */
export interface AdminClientOptions {
  url: string;
  user: string;
  password?: string;
}

export class AdminApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export class AdminClient {
  readonly #options: AdminClientOptions;
  #token?: string;

  constructor(options: AdminClientOptions) {
    this.#options = options;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.#login();
    return this.#send<T>(method, path, body, token);
  }

  async #login(): Promise<string> {
    if (this.#token) return this.#token;
    if (!this.#options.password) {
      throw new AdminApiError(0, 'CLI_NO_PASSWORD', 'no admin password: pass --password or set SWITCHBOARD_ADMIN_PASSWORD');
    }
    const { token } = await this.#send<{ token: string }>('POST', '/api/auth/login', {
      username: this.#options.user,
      password: this.#options.password,
    });
    this.#token = token;
    return token;
  }

  async #send<T>(method: string, path: string, body: unknown, token?: string): Promise<T> {
    const url = new URL(path, this.#options.url);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new AdminApiError(0, 'CLI_HOST_UNREACHABLE', `cannot reach the host at ${this.#options.url} (${(err as Error).message}); is it running? pass --url`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const err = (json ?? {}) as { code?: string; message?: string; details?: unknown };
      throw new AdminApiError(response.status, err.code ?? `HTTP_${response.status}`, err.message ?? text, err.details);
    }
    return json as T;
  }
}
