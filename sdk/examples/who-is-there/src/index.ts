/**
 * who-is-there: a partner plugin written only against @switchboard/sdk.
 *
 * SIP: a MESSAGE to bot@<site> is answered 200 and the bot's reply ("who"
 * lists who wrote to it within the window; anything else gets the help
 * text) is stored for the sender. A 2xx to MESSAGE carries no body
 * (RFC 3428 §7), so clients read replies over HTTP. MESSAGEs to anyone else
 * pass on to the next plugin.
 * HTTP: GET /sites/:site/present and GET /sites/:site/replies?to=URI.
 */
import { definePlugin, type PluginContext } from '@switchboard/sdk';
import { ReplyEntity, SightingEntity, type Sighting } from './entities/sighting.ts';

interface Config {
  botUser: string;
  windowMinutes: number;
}

const HELP = 'Send "who" to see who has been around lately.';

async function present(ctx: PluginContext<Config>, site: string): Promise<Sighting[]> {
  const since = Date.now() - ctx.config(site).windowMinutes * 60_000;
  const all = await ctx.db.repository(SightingEntity).find({ where: { site }, order: { uri: 'ASC' } });
  return all.filter((s) => new Date(s.lastSeen).getTime() >= since);
}

export function answerFor(text: string, people: string[]): string {
  if (text.trim().toLowerCase() !== 'who') return HELP;
  return people.length === 0 ? 'Nobody else has been around lately.' : `Around lately: ${people.join(', ')}`;
}

export default definePlugin<Config>({
  entities: [SightingEntity, ReplyEntity],

  setup(ctx) {
    ctx.sip.on('MESSAGE', async (req, res, next) => {
      const site = req.locals.site;
      const user = /^sips?:([^@;>]+)@/.exec(req.uri)?.[1]?.toLowerCase();
      if (user !== ctx.config(site).botUser) return next();
      const from = req.getParsedHeader('From').uri.replace(/;.*$/, '');
      const sightings = ctx.db.repository(SightingEntity);
      const seen = await sightings.findOneBy({ site, uri: from });
      await sightings.save({ ...(seen ?? {}), site, uri: from, lastSeen: new Date() });
      const others = (await present(ctx, site)).map((s) => s.uri).filter((u) => u !== from);
      const body = answerFor(String(req.body ?? ''), others);
      await ctx.db.repository(ReplyEntity).save({ site, toUri: from, body, createdAt: new Date() });
      res.send(200);
    });

    ctx.http.get('/sites/:site/present', async (request) => {
      const site = request.switchboard.site;
      return { site, present: (await present(ctx, site)).map((s) => ({ uri: s.uri, lastSeen: new Date(s.lastSeen).toISOString() })) };
    });

    ctx.http.route({
      method: 'GET',
      url: '/sites/:site/replies',
      schema: {
        querystring: { type: 'object', required: ['to'], additionalProperties: false, properties: { to: { type: 'string', minLength: 1, maxLength: 255 } } },
      },
      handler: async (request) => {
        const { to } = request.query as { to: string };
        const replies = await ctx.db.repository(ReplyEntity).find({ where: { site: request.switchboard.site, toUri: to }, order: { id: 'ASC' } });
        return { replies: replies.map((r) => ({ body: r.body, at: new Date(r.createdAt).toISOString() })) };
      },
    });
  },
});
