// Shared by the identity tests: JSON requests against a test host and sign-in.
import { fileURLToPath } from 'node:url';
import type { TestHost } from '@switchboard/sdk';

export const DIRECTORY_WATCH = fileURLToPath(new URL('./fixtures/plugins/identity/directory-watch', import.meta.url));

export interface JsonReply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(url: string, method: string, path: string, options: { token?: string; body?: unknown; cookie?: string; raw?: string; type?: string } = {}): Promise<JsonReply<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  let payload: string | undefined;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers['content-type'] = options.type ?? 'text/csv';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** `call` with the test host's admin token. */
export function admin<T = any>(th: TestHost, method: string, path: string, body?: unknown): Promise<JsonReply<T>> {
  return call<T>(th.url, method, path, { token: th.adminToken, ...(body !== undefined ? { body } : {}) });
}

export async function signIn(url: string, username: string, password: string, site?: string): Promise<JsonReply<{ token: string; role: string; site?: string; code?: string; message?: string }>> {
  return call(url, 'POST', '/api/auth/login', { body: { username, password, ...(site ? { site } : {}) } });
}

export async function tokenFor(url: string, username: string, password: string): Promise<string> {
  const res = await signIn(url, username, password);
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** A CSV with good and bad lines; EXPECTED_PROBLEMS is what the import must report for it. */
export const SAMPLE_CSV = [
  'username,password,displayName,aliases,phone,email,groups,role,enabled',
  'alice,alice-password,Alice A,al;ally,+1 555 0100,alice@a.test,sales;support,user,true', // 2 ok
  'bob,short,Bob,,,,,,', // 3 password too short
  'carol,carol-password,"Carol, the ""Boss""",,,not-an-email,,,', // 4 bad e-mail
  'alice,another-password,Alice Two,,,,,,', // 5 duplicate username
  'dave,dave-password,Dave,al,,,,,', // 6 alias taken by alice
  'erin,erin-password,Erin,,,,,site-admin,no', // 7 ok, disabled site-admin
  'frank,frank-password', // 8 too few cells
  ',nouser-password,No User,,,,,,', // 9 no username
  'gina,gina-password,Gina,,,,,boss,', // 10 bad role
  'hank,hank-password,"Hank ""H"" Hill",,555-0199,,,,', // 11 ok, quoted
].join('\n');

export const EXPECTED_PROBLEMS = [
  { line: 3, field: 'password', code: 'CORE_ERR_REQUEST_INVALID' },
  { line: 4, field: 'email', code: 'CORE_ERR_REQUEST_INVALID' },
  { line: 5, field: 'username', code: 'CORE_ERR_USER_EXISTS' },
  { line: 6, field: 'aliases', code: 'CORE_ERR_ADDRESS_TAKEN' },
  { line: 8, field: '', code: 'CSV_COLUMNS' },
  { line: 9, field: 'username', code: 'CORE_ERR_REQUEST_INVALID' },
  { line: 10, field: 'role', code: 'CORE_ERR_REQUEST_INVALID' },
];
