/**
 * CSV user imports that run in the background so a browser can show their
 * progress: POST starts a job (the header is checked first: a bad file is a
 * 400 and nothing runs), GET polls it for the lines done so far, each with
 * its outcome. Jobs live in memory for an hour after they finish.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { coreError, CoreError } from '../errors.ts';
import { importUsers, parseUserCsv } from '../identity/csv-import.ts';
import type { UserAccounts } from '../identity/user-accounts.ts';

export interface ImportLineOutcome {
  line: number;
  ok: boolean;
  username?: string;
  field?: string;
  reason?: string;
  code?: string;
}

export interface ImportJob {
  id: string;
  site: string;
  state: 'running' | 'done' | 'failed';
  /** Lines (records) in the file, header excluded. */
  total: number;
  done: number;
  created: number;
  failed: number;
  lines: ImportLineOutcome[];
  error?: { code: string; message: string };
  startedBy: string;
  startedAt: string;
  finishedAt?: string;
}

const KEEP_MS = 60 * 60 * 1000;
const MAX_JOBS_PER_SITE = 20;

export class ImportJobs {
  readonly #jobs = new Map<string, ImportJob>();
  readonly #accounts: UserAccounts;

  constructor(accounts: UserAccounts) {
    this.#accounts = accounts;
  }

  /** Parse now (throws CORE_ERR_IMPORT_INVALID), run in the background. */
  start(site: string, csv: string, startedBy: string): ImportJob {
    this.#prune(site);
    const records = parseUserCsv(csv);
    const job: ImportJob = {
      id: randomUUID(), site, state: 'running', total: records.length, done: 0, created: 0, failed: 0, lines: [],
      startedBy, startedAt: new Date().toISOString(),
    };
    this.#jobs.set(job.id, job);
    const usernames = new Map(records.map((r) => [r.line, r.input?.username]));
    void importUsers(this.#accounts, site, records, (line, problem) => {
      job.done += 1;
      if (problem) {
        job.failed += 1;
        job.lines.push({ line, ok: false, field: problem.field, reason: problem.reason, code: problem.code });
      } else {
        job.created += 1;
        job.lines.push({ line, ok: true, ...(usernames.get(line) ? { username: usernames.get(line)!.toLowerCase() } : {}) });
      }
    }).then(() => {
      job.state = 'done';
    }, (err: unknown) => {
      job.state = 'failed';
      job.error = err instanceof CoreError ? { code: err.code, message: err.message } : { code: 'CORE_ERR_INTERNAL', message: 'the import stopped; see the host log' };
    }).finally(() => {
      job.finishedAt = new Date().toISOString();
    });
    return job;
  }

  get(site: string, id: string): ImportJob {
    const job = this.#jobs.get(id);
    // Another site's job is as unknown as a missing one.
    if (!job || job.site !== site) throw coreError('CORE_ERR_ROUTE_NOT_FOUND', `import job ${id} of ${site}`);
    return job;
  }

  #prune(site: string): void {
    const now = Date.now();
    for (const [id, job] of this.#jobs) if (job.finishedAt && now - Date.parse(job.finishedAt) > KEEP_MS) this.#jobs.delete(id);
    const ofSite = [...this.#jobs.values()].filter((j) => j.site === site);
    if (ofSite.filter((j) => j.state === 'running').length >= MAX_JOBS_PER_SITE) {
      throw coreError('CORE_ERR_RATE_LIMITED', `${site} already runs ${MAX_JOBS_PER_SITE} imports`);
    }
    for (const job of ofSite.slice(0, Math.max(0, ofSite.length - MAX_JOBS_PER_SITE + 1))) if (job.state !== 'running') this.#jobs.delete(job.id);
  }
}

const siteParams = { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 253 } } } as const;

export function registerImportJobRoutes(app: FastifyInstance, options: { jobs: ImportJobs; requireSite(site: string): Promise<string>; limitBytes?: number }): void {
  app.register(async (scope) => {
    const bodyLimit = options.limitBytes ?? 5 * 1024 * 1024;
    scope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { site: string }; Body: string }>('/api/admin/sites/:site/users/import-jobs', {
      schema: { params: siteParams },
      bodyLimit,
      config: { role: 'site-admin' },
    }, async (request, reply) => {
      const site = await options.requireSite(request.params.site);
      if (typeof request.body !== 'string') throw coreError('CORE_ERR_IMPORT_INVALID', 'send the file as text/csv');
      const job = options.jobs.start(site, request.body, request.principal?.subject ?? 'unknown');
      return reply.code(202).header('location', `/api/admin/sites/${encodeURIComponent(site)}/users/import-jobs/${job.id}`).send({ job: summary(job, 0) });
    });
    scope.get<{ Params: { site: string; id: string }; Querystring: { from?: string } }>('/api/admin/sites/:site/users/import-jobs/:id', {
      schema: {
        params: { type: 'object', required: ['site', 'id'], properties: { site: siteParams.properties.site, id: { type: 'string', format: 'uuid' } } },
        querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
      },
      config: { role: 'site-admin' },
    }, async (request) => {
      const site = await options.requireSite(request.params.site);
      return { job: summary(options.jobs.get(site, request.params.id), Number(request.query.from ?? 0)) };
    });
  });
}

/** The job with its line outcomes from index `from` on (a poller asks only for what is new). */
function summary(job: ImportJob, from: number): ImportJob & { from: number } {
  return { ...job, from, lines: job.lines.slice(from) };
}
