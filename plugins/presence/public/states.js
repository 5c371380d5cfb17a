// State ids, their labels, and the site's custom states (from GET states).

export const stateLabels = {
  available: 'Available',
  inactive: 'Inactive',
  'be-right-back': 'Be Right Back',
  away: 'Away',
  busy: 'Busy',
  'in-a-meeting': 'In a meeting',
  'in-a-conference': 'In a conference',
  'in-a-call': 'In a call',
  'do-not-disturb': 'Do Not Disturb',
  unknown: 'Unknown',
  offline: 'Offline',
};

const custom = new Map();

/** Take the labels and custom states of GET /states. */
export function setStates(answer) {
  for (const s of answer?.states ?? []) stateLabels[s.id] = s.label;
  custom.clear();
  for (const c of answer?.custom ?? []) custom.set(c.id, c);
}

/** The words a watcher reads for a presence view. */
export function labelOf(presence) {
  if (presence?.custom && custom.has(presence.custom)) return custom.get(presence.custom).label;
  return stateLabels[presence?.state] ?? stateLabels.unknown;
}

/** Fill an icon element (`.presence-icon`) for a presence view. */
export function paintIcon(icon, presence) {
  if (!icon) return;
  icon.dataset.state = presence?.state ?? 'unknown';
  icon.title = labelOf(presence);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'type' || k === 'id' || k === 'for' || k === 'tabindex' || k === 'title') node.setAttribute(k, v === true ? '' : String(v));
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

/** Show a coded error next to the form that caused it. */
export function showError(container, err) {
  const box = container.querySelector('[data-presence-error]');
  if (!box) return;
  box.textContent = err ? (err.message || String(err)) : '';
  box.hidden = !err;
}
