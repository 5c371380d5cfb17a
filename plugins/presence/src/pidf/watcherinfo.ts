/** Watcher information documents (RFC 3858) for the presence.winfo package (RFC 3857). */
import { escapeXml } from './xml-tree.ts';

export const WINFO_CONTENT_TYPE = 'application/watcherinfo+xml';

export interface WatcherEntry {
  id: string;
  uri: string;
  status: 'active' | 'pending' | 'waiting' | 'terminated';
  event: 'subscribe' | 'approved' | 'deactivated' | 'probation' | 'rejected' | 'timeout' | 'giveup' | 'noresource';
}

/** A full-state document: every current watcher of `resource`. */
export function buildWatcherInfo(resource: string, version: number, watchers: readonly WatcherEntry[]): string {
  const items = watchers
    .map((w) => `<watcher id="${escapeXml(w.id)}" event="${w.event}" status="${w.status}">${escapeXml(w.uri)}</watcher>`)
    .join('');
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="${version}" state="full">`
    + `<watcher-list resource="${escapeXml(resource)}" package="presence">${items}</watcher-list>`
    + '</watcherinfo>\n';
}
