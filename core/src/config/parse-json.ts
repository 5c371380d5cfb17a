/**
 * JSON.parse with an error that says where. V8 only sometimes reports a
 * position ("Unexpected token '}', ... is not valid JSON" has none), and a
 * user fixing plugin.json or a config file needs the line and column, so on
 * failure we re-scan the text to find the first offending character.
 */

export class JsonSyntaxError extends Error {
  line: number;
  column: number;
  position: number;

  constructor(reason: string, position: number, text: string) {
    const { line, column } = lineAndColumn(text, position);
    super(`invalid JSON at line ${line} column ${column}: ${reason}`);
    this.name = 'JsonSyntaxError';
    this.line = line;
    this.column = column;
    this.position = position;
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const found = findSyntaxError(text);
    const reason = found?.reason ?? (err as Error).message;
    throw new JsonSyntaxError(reason, found?.position ?? 0, text);
  }
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

interface Failure {
  reason: string;
  position: number;
}

/** A minimal recursive-descent JSON scanner that only locates the first error. */
function findSyntaxError(text: string): Failure | undefined {
  let i = 0;
  const fail = (reason: string): never => {
    throw { reason, position: i } satisfies Failure;
  };
  const describe = (): string => (i >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[i])}`);
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(describe());
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('control character in string (escape it)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('bad escape in string');
      }
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail(describe());
    i += match![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail('nesting too deep');
    skipSpace();
    const c = text[i];
    if (c === '{') return object(depth);
    if (c === '[') return array(depth);
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(`${describe()}, expected a value`);
  };
  const object = (depth: number): void => {
    i++;
    skipSpace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      if (text[i] !== '"') fail(`${describe()}, expected a double-quoted property name`);
      string();
      skipSpace();
      if (text[i] !== ':') fail(`${describe()}, expected ':' after property name`);
      i++;
      value(depth + 1);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(`${describe()}, expected ',' or '}'`);
    }
  };
  const array = (depth: number): void => {
    i++;
    skipSpace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value(depth + 1);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(`${describe()}, expected ',' or ']'`);
    }
  };
  try {
    // A leading byte-order mark is not JSON, but editors write it.
    if (text.charCodeAt(0) === 0xfeff) fail('byte-order mark at start of file (save without BOM)');
    value(0);
    skipSpace();
    if (i < text.length) fail(`${describe()} after the JSON value`);
    return undefined;
  } catch (failure) {
    if (failure && typeof failure === 'object' && 'position' in failure) return failure as Failure;
    throw failure;
  }
}
