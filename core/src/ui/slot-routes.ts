/**
 * Serves a rendered slot as an HTML snippet, for themes and the admin UI to
 * pull in. Only plugins enabled for the site appear in it.
 */
import type { FastifyInstance } from 'fastify';
import { coreError } from '../errors.ts';

export interface SlotSource {
  hasSite(site: string): boolean;
  renderSlot(site: string, slot: string): string;
}

export function registerSlotRoutes(app: FastifyInstance, source: SlotSource): void {
  app.get<{ Params: { site: string; slot: string } }>('/api/sites/:site/ui/slots/:slot', { config: { role: 'public' } }, async (request, reply) => {
    const site = request.params.site.toLowerCase();
    if (!source.hasSite(site)) throw coreError('CORE_ERR_SITE_NOT_FOUND', site);
    const html = source.renderSlot(site, request.params.slot);
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
