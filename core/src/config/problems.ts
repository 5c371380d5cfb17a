import type { ErrorObject } from 'ajv';
import type { ConfigProblem } from './types.ts';

/**
 * Translates ajv errors into path / expected / found triples an admin can act
 * on. Wrapper errors (if/then, anyOf) only restate their children and are
 * dropped.
 */
export function describeAjvErrors(errors: ErrorObject[], data: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    const problem = describeOne(error, data);
    const key = `${problem.path}\u0000${problem.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describeOne(error: ErrorObject, data: unknown): ConfigProblem {
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath;
  const value = valueAt(data, path);
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return { path: `${path}/${escapePointer(missing)}`, expected: 'a value (required)', found: 'nothing' };
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const childPath = `${path}/${escapePointer(extra)}`;
      return { path: childPath, expected: 'no such key (unknown setting; check the spelling)', found: show(valueAt(data, childPath), childPath) };
    }
    case 'type':
      return { path, expected: `${article(String(params.type))} ${params.type}`, found: show(value, path) };
    case 'enum':
      return { path, expected: `one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, found: show(value, path) };
    case 'const':
      return { path, expected: JSON.stringify(params.allowedValue), found: show(value, path) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, expected: `a number ${params.comparison} ${params.limit}`, found: show(value, path) };
    case 'minLength':
      return { path, expected: `a string of at least ${params.limit} characters`, found: show(value, path) };
    case 'maxLength':
      return { path, expected: `a string of at most ${params.limit} characters`, found: show(value, path) };
    case 'minItems':
      return { path, expected: `at least ${params.limit} items`, found: show(value, path) };
    case 'format':
      return { path, expected: `a valid ${params.format}`, found: show(value, path) };
    case 'pattern':
      return { path, expected: `a string matching ${params.pattern}`, found: show(value, path) };
    default:
      return { path, expected: `a value that ${error.message ?? `passes ${error.keyword}`}`, found: show(value, path) };
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Secrets are described, never echoed: error output ends up in logs and bug reports. */
function show(value: unknown, path: string): string {
  if (value === undefined) return 'nothing';
  if (/(password|secret)$/i.test(path) && typeof value === 'string') {
    return `a string of ${value.length} character${value.length === 1 ? '' : 's'} (hidden)`;
  }
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let text = JSON.stringify(value);
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return kind === 'object' || kind === 'array' || kind === 'null' ? `${kind} ${kind === 'null' ? '' : text}`.trim() : `${kind} ${text}`;
}
