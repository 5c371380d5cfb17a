/**
 * Rich text is HTML cleaned against an allow-list before anything else sees
 * it: formatting and lists stay, scripts, styles, event handlers, images and
 * unknown tags go. Links keep only http(s)/mailto targets, and are removed
 * (text kept) when the site's URL filter is not `allow`, so a blocked or
 * defanged link cannot hide in markup.
 */
import sanitizeHtml from 'sanitize-html';
import { emojify } from './emoticons.ts';

const TAGS = ['b', 'strong', 'i', 'em', 'u', 's', 'br', 'p', 'span', 'ul', 'ol', 'li', 'blockquote', 'code', 'pre'];

export const RICH_TEXT = 'text/html';

/** Cleans `html`; with `emoticons`, text emoticons outside code become emoji (emoticons.ts). */
export function sanitizeRichText(html: string, allowLinks: boolean, emoticons = false): string {
  return sanitizeHtml(html, {
    ...(emoticons ? { textFilter: (text: string, tag: string) => (tag === 'code' || tag === 'pre' ? text : emojify(text, true)) } : {}),
    allowedTags: allowLinks ? [...TAGS, 'a'] : TAGS,
    allowedAttributes: allowLinks ? { a: ['href', 'rel', 'target'] } : {},
    allowedSchemes: ['http', 'https', 'mailto'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: allowLinks ? { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer', target: '_blank' }) } : {},
  });
}
