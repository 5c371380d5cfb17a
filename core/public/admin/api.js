// The admin API as the console uses it: same-origin fetch with the session
// cookie (sb_session, set by POST /api/auth/login), JSON in and out, and
// errors as ApiError carrying the host's { code, message, details }.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? `HTTP_${status}`;
    this.details = body?.details;
  }
}

export async function api(method, path, body, { type } = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = type ?? 'application/json';
    init.body = type ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const enc = encodeURIComponent;
