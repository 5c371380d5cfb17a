/**
 * What a browser meets at the top of the server: `GET /` sends a user to
 * the client plugin enabled for the site (manifest `ui.entry`), the site
 * being the one the Host header names, or the only site. Core errors that
 * reach a browser page load (GET, Accept: text/html) are drawn as a themed
 * page carrying the same code and words as the JSON answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CoreError } from '../errors.ts';
import { CORE_ERRORS, coreError } from '../errors.ts';

export interface EntrySource {
  /** Known site domains (lowercase). */
  sites(): string[];
  /** Entry URLs (`:site` still in them) of the active client plugins enabled for `site`, in load order. */
  entries(site: string): string[];
  /** A plain themed page with `main` as its trusted body. */
  page(site: string | undefined, title: string, main: string): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the host: draws a core error as an HTML page for browsers. */
    switchboardHtmlError?: (err: CoreError, request: FastifyRequest) => string | undefined;
  }
}

/** The site a browser asked for: the Host header when it names one, else the only site. */
export function siteOfRequest(request: FastifyRequest, sites: string[]): string | undefined {
  const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (sites.includes(host)) return host;
  return sites.length === 1 ? sites[0] : undefined;
}

export function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  const accept = request.headers.accept ?? '';
  return /\btext\/html\b/.test(accept) && !String(request.url).startsWith('/api/');
}

export function registerEntryRoutes(app: FastifyInstance, source: EntrySource): void {
  app.decorate('switchboardHtmlError', (err: CoreError, request: FastifyRequest) => {
    if (!wantsHtml(request)) return undefined;
    const site = siteOfRequest(request, source.sites());
    return source.page(site, err.message, errorMain(err));
  });
  app.get<{ Querystring: { site?: string } }>('/', { config: { role: 'public' } }, async (request, reply) => {
    const sites = source.sites();
    const asked = typeof request.query.site === 'string' ? request.query.site.toLowerCase() : undefined;
    const site = asked !== undefined && sites.includes(asked) ? asked : siteOfRequest(request, sites);
    if (!site) {
      return htmlError(reply, 404, source.page(undefined, 'Which site?', `<h1>Which site?</h1>
<p>This server hosts several sites. Open it by your site's address (for example <code>https://your-site.example/</code>), or add <code>?site=your-site.example</code> to this address.</p>`));
    }
    const entry = source.entries(site)[0];
    if (!entry) {
      const err = coreError('CORE_ERR_NO_CLIENT_ENABLED', site);
      return htmlError(reply, err.httpStatus, source.page(site, err.message, errorMain(err)));
    }
    return reply.redirect(entry.replaceAll(':site', encodeURIComponent(site)), 302);
  });
}

function htmlError(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

function errorMain(err: CoreError): string {
  return `<h1>${escape(err.message)}</h1>
<p class="error-code">Error code: <code>${escape(err.code)}</code></p>
${CORE_ERRORS[err.code] ? `<p>${escape(CORE_ERRORS[err.code]!.hint)}</p>` : ''}
<p><a href="/">Back to the start page</a></p>`;
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
