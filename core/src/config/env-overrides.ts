/**
 * Applies SWITCHBOARD_* variables to the merged config. Double underscore is
 * nesting (SWITCHBOARD_HTTP__PORT → http.port). Segments are matched to schema
 * property names ignoring case and single underscores, so
 * SWITCHBOARD_PLUGINS__HANDLER_TIMEOUT_MS reaches plugins.handlerTimeoutMs.
 * Values are JSON when they parse, else strings; where the schema says
 * string the raw text is kept, so a password of digits stays a string.
 */

const PREFIX = 'SWITCHBOARD_';

/** Variables with their own meaning, not config paths. */
const SPECIAL: Record<string, string[]> = {
  SWITCHBOARD_ADMIN_PASSWORD: ['admin', 'password'],
};

/** Read by the CLI as the config file path, never merged as a key. */
export const CONFIG_FILE_VARIABLE = 'SWITCHBOARD_CONFIG';

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * Applies the variables onto `config` in place (rather than building a
 * fragment to merge) so SWITCHBOARD_SITES__0__NAME changes one field of the
 * first site instead of replacing the whole array.
 */
export function applyEnvOverrides(config: Record<string, unknown>, env: NodeJS.ProcessEnv, schema: SchemaNode): void {
  const names = Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && name !== CONFIG_FILE_VARIABLE)
    .sort();
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined) continue;
    const segments = SPECIAL[name] ?? name.slice(PREFIX.length).split('__');
    if (segments.some((s) => s === '')) continue;
    setPath(config, segments, raw, schema);
  }
}

function normalise(segment: string): string {
  return segment.replace(/_/g, '').toLowerCase();
}

function setPath(target: Record<string, unknown>, segments: string[], raw: string, schema: SchemaNode): void {
  let node: Record<string, unknown> | unknown[] = target;
  let schemaNode: SchemaNode | undefined = schema;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    let key: string | number;
    if (Array.isArray(node) || (/^\d+$/.test(segment) && schemaNode?.items)) {
      key = Number(segment);
      schemaNode = schemaNode?.items;
    } else {
      const known = Object.keys(schemaNode?.properties ?? {}).find((p) => normalise(p) === normalise(segment));
      key = known ?? segment.toLowerCase();
      schemaNode = known ? schemaNode?.properties?.[known] : undefined;
    }
    if (last) {
      (node as Record<string | number, unknown>)[key] = parseValue(raw, schemaNode);
      return;
    }
    const next: unknown = (node as Record<string | number, unknown>)[key];
    const nextIsArray = /^\d+$/.test(segments[i + 1]!) && schemaNode?.items !== undefined;
    if (next === null || typeof next !== 'object') {
      (node as Record<string | number, unknown>)[key] = nextIsArray ? [] : {};
    }
    node = (node as Record<string | number, unknown>)[key] as Record<string, unknown> | unknown[];
  }
}

function parseValue(raw: string, schemaNode: SchemaNode | undefined): unknown {
  if (schemaNode?.type === 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
