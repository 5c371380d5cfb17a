// Tiny DOM builder for the admin console. Text always goes in as text nodes,
// never as HTML, so nothing a user or plugin typed can become markup.

/**
 * h('button', { class: 'x', type: 'button', onclick: fn, dataset: { id: 1 } }, 'Label', child)
 * Attributes whose value is false, null or undefined are left out; true sets an empty attribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'class') el.className = value;
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let counter = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix = 'sba') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A status line (role=status) or an alert (role=alert) that can be shown and cleared. */
export function messageLine(kind = 'status') {
  const el = h('p', { class: 'sba-message', role: kind, hidden: true });
  return {
    el,
    ok(text) { el.className = 'sba-message sb-ok'; el.textContent = text; el.hidden = false; },
    error(text) { el.className = 'sba-message sb-error'; el.textContent = text; el.hidden = false; },
    clear() { el.textContent = ''; el.hidden = true; },
  };
}

/** Human text of an API error: the code and the message. */
export function errorText(err) {
  if (err && err.code) return `${err.message} (${err.code})`;
  return String(err?.message ?? err);
}
