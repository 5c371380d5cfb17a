// Forms generated from a JSON Schema (a plugin's config schema, the user and
// branding schemas), and ajv errors from a 400 shown next to the field they
// name. Every field carries data-path (a JSON pointer like /limits/max) so an
// error's instancePath finds it.
import { h, uid } from './dom.js';

const SCALAR = new Set(['string', 'integer', 'number', 'boolean']);

/**
 * @param {object} schema  JSON Schema of an object
 * @param {object} value   current value
 * @param {{ omit?: string[], labels?: Record<string,string>, secret?: string[] }} options
 * @returns {{ el: HTMLElement, read(): object, showErrors(errors: object[]): number, clearErrors(): void, general: HTMLElement }}
 */
export function schemaForm(schema, value = {}, options = {}) {
  const fields = new Map(); // path → { read, row, input }
  const general = h('div', { class: 'sba-form-errors', role: 'alert' });
  const body = objectFields(schema, value ?? {}, '', fields, options, true);
  const el = h('div', { class: 'sba-schema-form' }, general, body);

  function clearErrors() {
    general.replaceChildren();
    for (const field of fields.values()) {
      field.error.hidden = true;
      field.error.textContent = '';
      field.input?.removeAttribute('aria-invalid');
    }
  }

  function showErrors(errors = []) {
    clearErrors();
    const list = Array.isArray(errors) ? errors : [];
    // Prefer the most specific errors: skip one whose path is the parent of another error's path (anyOf noise).
    const specific = list.filter((e) => !list.some((o) => o !== e && pathOf(o).startsWith(`${pathOf(e)}/`)));
    let placed = 0;
    for (const err of specific) {
      const field = fieldFor(pathOf(err));
      const text = messageOf(err);
      if (field) {
        field.error.textContent = field.error.textContent ? `${field.error.textContent}; ${text}` : text;
        field.error.hidden = false;
        field.input?.setAttribute('aria-invalid', 'true');
        placed += 1;
      } else {
        general.append(h('p', { class: 'sb-field-error' }, `${pathOf(err) || 'form'}: ${text}`));
      }
    }
    const first = [...fields.values()].find((f) => !f.error.hidden);
    first?.input?.focus();
    return placed;
  }

  function fieldFor(path) {
    for (let p = path; ; p = p.slice(0, p.lastIndexOf('/'))) {
      if (fields.has(p)) return fields.get(p);
      if (!p) return undefined;
    }
  }

  return { el, general, read: () => readObject(schema, '', fields), showErrors, clearErrors };
}

function pathOf(err) {
  const base = err.instancePath ?? err.dataPath ?? '';
  const extra = err.keyword === 'required' ? err.params?.missingProperty : undefined;
  return extra ? `${base}/${extra}` : base;
}

function messageOf(err) {
  if (err.keyword === 'required') return 'is required';
  if (err.keyword === 'additionalProperties') return `unknown field ${err.params?.additionalProperty ?? ''}`.trim();
  return err.message ?? 'is invalid';
}

function objectFields(schema, value, path, fields, options, root) {
  const container = root ? h('div', { class: 'sba-fields' }) : h('fieldset', { class: 'sba-fieldset' });
  if (!root) container.append(h('legend', {}, schema.title ?? path.split('/').pop()));
  const required = new Set(schema.required ?? []);
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const p = `${path}/${key}`;
    if ((options.omit ?? []).includes(p)) continue;
    container.append(fieldFor(sub, value?.[key], p, key, required.has(key), fields, options));
  }
  // The fieldset itself takes errors about the object (e.g. additionalProperties).
  const error = h('p', { class: 'sb-field-error', hidden: true });
  container.append(error);
  fields.set(path, { error, input: root ? undefined : container, read: undefined });
  return container;
}

function fieldFor(schema, current, path, key, required, fields, options) {
  const type = typeOf(schema);
  // What the plugin runs with when nothing is stored: the schema default.
  const value = current ?? schema.default;
  if (type === 'object' && schema.properties) return objectFields(schema, value ?? {}, path, fields, options, false);
  const id = uid('sba-field');
  const errorId = `${id}-error`;
  const label = options.labels?.[path] ?? schema.title ?? key;
  const hint = schema.description ? h('small', { class: 'sba-hint', id: `${id}-hint` }, schema.description) : undefined;
  const error = h('p', { class: 'sb-field-error', id: errorId, hidden: true });
  const describedBy = [hint ? `${id}-hint` : '', errorId].filter(Boolean).join(' ');
  const common = { id, name: path, 'aria-describedby': describedBy, dataset: { path } };
  let input;
  let read;
  if (type === 'boolean') {
    input = h('input', { ...common, type: 'checkbox', checked: value ?? schema.default ?? false });
    read = () => input.checked;
    const row = h('div', { class: 'sba-field sba-field--check' }, input, h('label', { for: id }, label), hint, error);
    fields.set(path, { error, input, read });
    return row;
  }
  const enumValues = schema.enum ?? (schema.items?.enum && type !== 'array' ? schema.items.enum : undefined);
  if (enumValues && type !== 'array') {
    input = h('select', common,
      required ? undefined : h('option', { value: '' }, schema.default !== undefined ? `(default: ${schema.default})` : '(none)'),
      enumValues.map((v) => h('option', { value: String(v), selected: String(v) === String(value ?? '') }, String(v))));
    read = () => (input.value === '' ? undefined : castScalar(typeOf(schema), input.value, enumValues));
  } else if (type === 'integer' || type === 'number') {
    input = h('input', {
      ...common, type: 'number', inputmode: type === 'integer' ? 'numeric' : 'decimal', step: type === 'integer' ? '1' : 'any',
      min: schema.minimum, max: schema.maximum, value: value ?? '', required: required || undefined,
    });
    read = () => (input.value.trim() === '' ? undefined : Number(input.value));
  } else if (type === 'string') {
    const secret = (options.secret ?? []).includes(path) || schema.format === 'password' || /password|secret/i.test(key);
    const long = (schema.maxLength ?? 0) > 300;
    input = long
      ? h('textarea', { ...common, rows: 3, maxlength: schema.maxLength, value: value ?? '' })
      : h('input', {
        ...common, type: secret ? 'password' : schema.format === 'email' ? 'email' : 'text', value: value ?? '',
        maxlength: schema.maxLength, autocomplete: secret ? 'new-password' : 'off', required: required || undefined,
      });
    if (long) input.value = value ?? '';
    read = () => (input.value === '' ? undefined : input.value);
  } else if (type === 'array' && SCALAR.has(typeOf(schema.items ?? {}))) {
    const itemType = typeOf(schema.items);
    input = h('input', { ...common, type: 'text', value: Array.isArray(value) ? value.join(', ') : '' });
    read = () => {
      const parts = input.value.split(',').map((s) => s.trim()).filter(Boolean);
      return parts.map((s) => castScalar(itemType, s));
    };
    const listHint = h('small', { class: 'sba-hint' }, 'Separate entries with commas.');
    const row = h('div', { class: 'sba-field' }, h('label', { for: id }, label), input, listHint, hint, error);
    fields.set(path, { error, input, read });
    return row;
  } else {
    // Anything richer (arrays of objects, anyOf): edit as JSON.
    input = h('textarea', { ...common, rows: 4, class: 'sba-json', spellcheck: 'false' });
    input.value = value === undefined ? '' : JSON.stringify(value, null, 2);
    read = () => {
      if (input.value.trim() === '') return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        return input.value; // the server answers with a field error for the wrong type
      }
    };
  }
  const row = h('div', { class: 'sba-field' }, h('label', { for: id }, label, required ? h('span', { class: 'sba-required', 'aria-hidden': 'true' }, ' *') : undefined), input, hint, error);
  fields.set(path, { error, input, read });
  return row;
}

function readObject(schema, path, fields) {
  const out = {};
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const p = `${path}/${key}`;
    let v;
    if (typeOf(sub) === 'object' && sub.properties) {
      if (!fields.has(p)) continue;
      v = readObject(sub, p, fields);
    } else {
      const field = fields.get(p);
      if (!field?.read) continue;
      v = field.read();
    }
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function typeOf(schema) {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null') ?? 'string';
  if (schema.type) return schema.type;
  if (schema.enum) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  if (schema.properties) return 'object';
  return 'json';
}

function castScalar(type, text, enumValues) {
  if (enumValues) return enumValues.find((v) => String(v) === text) ?? text;
  if (type === 'integer' || type === 'number') return text.trim() === '' || Number.isNaN(Number(text)) ? text : Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}
