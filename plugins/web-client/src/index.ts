/**
 * web-client: the browser client of a site. Serves the sign-in page and the
 * client shell, both drawn by the site's theme; the shell's slots hold the
 * fragments of every plugin enabled for the site (presence, IM, …), and the
 * runtime in public/client.js loads those plugins' scripts and keeps the one
 * WebSocket (/api/live) that carries their live events.
 *
 *   GET /client/:site/          the client (signed-in users of the site; others go to sign-in)
 *   GET /client/:site           redirect to the above
 *   GET /client/:site/sign-in   the sign-in page
 *
 * A site where the plugin is off answers CORE_ERR_PLUGIN_NOT_ENABLED (404)
 * from the core, before any of this runs.
 */
import { definePlugin, type PluginContext, type PluginRequestScope } from '@switchboard/sdk';
import { ASSETS, shellMain, signInMain } from './pages.ts';

export interface WebClientConfig {
  title: string;
}

const siteParams = { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 253 } } };
const signInQuery = { type: 'object', additionalProperties: false, properties: { reason: { enum: ['signed-out', 'expired'] } } };
const NOTICES: Record<string, string> = { 'signed-out': 'You are signed out.', expired: 'Your session ended; sign in again.' };

/** The signed-in site user behind a request, when the token belongs to `site`. */
function userOf(scope: PluginRequestScope): string | undefined {
  const subject = scope.user?.username;
  const at = subject?.lastIndexOf('@') ?? -1;
  if (!subject || at <= 0 || subject.slice(at + 1).toLowerCase() !== scope.site) return undefined;
  return subject.slice(0, at).toLowerCase();
}

function clientPath(site: string): string {
  return `/client/${encodeURIComponent(site)}/`;
}

function siteName(ctx: PluginContext<WebClientConfig>, site: string): string {
  return ctx.sites.list().find((s) => s.domain === site)?.name ?? site;
}

export default definePlugin<WebClientConfig>({
  setup(ctx) {
    ctx.http.route({
      method: 'GET',
      url: '/:site',
      schema: { params: siteParams },
      handler: (request, reply) => reply.redirect(clientPath(request.switchboard.site), 301),
    });

    ctx.http.route({
      method: 'GET',
      url: '/:site/',
      schema: { params: siteParams },
      handler: async (request, reply) => {
        const site = request.switchboard.site;
        const username = userOf(request.switchboard);
        reply.header('cache-control', 'no-store');
        if (!username) return reply.redirect(`${clientPath(site)}sign-in`, 303);
        const user = await ctx.directory.findUser(site, username);
        if (!user || !user.enabled) return reply.redirect(`${clientPath(site)}sign-in?reason=expired`, 303);
        const { title } = ctx.config(site);
        const html = ctx.ui.page(site, {
          title,
          layout: 'app',
          scripts: [`${ASSETS}/client.js`],
          styles: [`${ASSETS}/client.css`],
          data: { user: { username: user.username, displayName: user.displayName, sipUri: user.sipUri } },
          main: shellMain({ site, title, username: user.username, displayName: user.displayName }),
        });
        return reply.type('text/html; charset=utf-8').send(html);
      },
    });

    ctx.http.route({
      method: 'GET',
      url: '/:site/sign-in',
      schema: { params: siteParams, querystring: signInQuery },
      handler: async (request, reply) => {
        const site = request.switchboard.site;
        const { title } = ctx.config(site);
        const reason = (request.query as { reason?: string }).reason;
        const html = ctx.ui.page(site, {
          title: `Sign in · ${title}`,
          layout: 'plain',
          scripts: [`${ASSETS}/sign-in.js`],
          styles: [`${ASSETS}/client.css`],
          main: signInMain({ site, siteName: siteName(ctx, site), title, next: clientPath(site), ...(reason ? { notice: NOTICES[reason]! } : {}) }),
        });
        return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
      },
    });
  },
});
