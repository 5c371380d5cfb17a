/**
 * RFC 3994 isComposing documents: built for SIP endpoints when a browser
 * user types, and read when a SIP client reports typing so browsers can be
 * told. Only `state` and `refresh` matter here.
 */
import type { TypingState } from './live-push.ts';

export const IS_COMPOSING = 'application/im-iscomposing+xml';

export function isComposingXml(state: TypingState, refresh?: number): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">',
    `  <state>${state}</state>`,
    '  <contenttype>text/plain</contenttype>',
    ...(state === 'active' && refresh ? [`  <refresh>${refresh}</refresh>`] : []),
    '</isComposing>',
    '',
  ].join('\n');
}

/** The state and refresh of an isComposing body; `idle` unless it says `active`. */
export function parseIsComposing(body: string): { state: TypingState; refresh?: number } {
  const state = /<(?:[\w-]+:)?state>\s*active\s*<\//i.test(body) ? 'active' : 'idle';
  const refresh = Number(/<(?:[\w-]+:)?refresh>\s*(\d{1,5})\s*<\//i.exec(body)?.[1]);
  return Number.isFinite(refresh) && refresh > 0 ? { state, refresh } : { state };
}
