// Small DOM helpers of the IM fragments: element building, message bodies
// (text with links, sanitised rich text rebuilt from an allow-list), errors.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (/^(data-|aria-)|^(role|type|id|for|tabindex|title|href|download|rel|target|datetime)$/.test(k)) node.setAttribute(k, v === true ? '' : String(v));
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

const FILE_LINK = /(\/api\/plugins\/im\/sites\/[^/\s]+\/files\/[0-9a-f]{32})/g;
const WEB_LINK = /\bhttps?:\/\/[^\s<>"']+/g;

/** Plain text with file download links and web links made clickable. */
function textNodes(text) {
  const out = [];
  const pattern = new RegExp(`${FILE_LINK.source}|${WEB_LINK.source}`, 'g');
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    const url = m[0];
    out.push(url.startsWith('/api/')
      ? el('a', { href: url, class: 'im-file-link', download: '', text: 'Download' })
      : el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: url }));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

const RICH_TAGS = new Set(['B', 'STRONG', 'I', 'EM', 'U', 'S', 'BR', 'P', 'UL', 'OL', 'LI', 'CODE', 'PRE', 'BLOCKQUOTE', 'SPAN', 'A']);

/**
 * The server sanitises text/html already; the page rebuilds it from an
 * allow-list anyway, so no markup it does not know reaches the DOM.
 */
function richNodes(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return textNodes(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return [];
    const children = [...node.childNodes].flatMap(copy);
    if (!RICH_TAGS.has(node.tagName)) return children;
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      return /^https?:\/\//i.test(href) ? [el('a', { href, rel: 'noopener noreferrer', target: '_blank' }, ...children)] : children;
    }
    return [el(node.tagName.toLowerCase(), {}, ...children)];
  };
  return [...doc.body.childNodes].flatMap(copy);
}

const FILE_MESSAGE = /^(.*) sent a file: (.+) \((\d+) bytes\) (\/api\/plugins\/im\/sites\/[^/\s]+\/files\/[0-9a-f]{32})$/s;

export function bodyNodes(message) {
  if (message.contentType === 'text/html') return richNodes(message.body);
  const file = FILE_MESSAGE.exec(message.body);
  if (file) {
    return [
      document.createTextNode('Sent a file: '),
      el('a', { href: file[4], class: 'im-file-link', download: file[2], text: file[2] }),
      document.createTextNode(` (${formatBytes(Number(file[3]))})`),
    ];
  }
  return textNodes(message.body);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** One line of words for lists and notices. */
export function preview(message, max = 80) {
  const file = message.contentType === 'text/html' ? null : FILE_MESSAGE.exec(message.body);
  if (file) return `Sent a file: ${file[2]}`;
  const text = message.contentType === 'text/html'
    ? new DOMParser().parseFromString(message.body, 'text/html').body.textContent ?? ''
    : message.body;
  const flat = text.replace(FILE_LINK, '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function timeOf(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

export function showError(container, err) {
  const box = container.querySelector('[data-im-error]');
  if (!box) return;
  box.textContent = err ? (err.message || String(err)) : '';
  box.hidden = !err;
}
