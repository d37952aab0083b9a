/**
 * Hostile alphabets for the property tests: strings with control characters and unpaired
 * surrogates, very long strings, huge and negative numbers, deep and wide JSON with hostile keys,
 * forged global ids. Every arbitrary mixes its hostile values with valid ones (real keys, real
 * ids of the fixture workspace), so generated operations reach past the first validation.
 *
 * Large values (long strings, deep JSON) are generated as small descriptions (`Long`, `Deep`,
 * `Wide`, `Obj`) that print compactly in a counterexample; `materialize` turns them into the
 * values that are sent.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// Values that stay small until they are sent

/** `prefix` followed by `unit` repeated `count` times. */
export class Long {
  constructor(
    readonly unit: string,
    readonly count: number,
    readonly prefix = '',
  ) {}
  [fc.toStringMethod](): string {
    return `Long(${JSON.stringify(this.prefix)} + ${JSON.stringify(this.unit)}×${this.count})`;
  }
  value(): string {
    return this.prefix + this.unit.repeat(this.count);
  }
}

/** A JSON value nested `depth` times (`{"a":{"a":…}}` or `[[…]]`) around `leaf`. */
export class Deep {
  constructor(
    readonly kind: 'object' | 'array',
    readonly depth: number,
    readonly leaf: unknown,
  ) {}
  [fc.toStringMethod](): string {
    return `Deep(${this.kind}×${this.depth}, ${fc.stringify(this.leaf)})`;
  }
  value(): unknown {
    let value = materialize(this.leaf);
    for (let i = 0; i < this.depth; i += 1) value = this.kind === 'object' ? { a: value } : [value];
    return value;
  }
}

/** An object with `width` keys `k0…`, each mapped to `leaf`. */
export class Wide {
  constructor(
    readonly width: number,
    readonly leaf: unknown,
  ) {}
  [fc.toStringMethod](): string {
    return `Wide(${this.width} keys, ${fc.stringify(this.leaf)})`;
  }
  value(): Record<string, unknown> {
    const leaf = materialize(this.leaf);
    return Object.fromEntries(Array.from({ length: this.width }, (_, i) => [`k${i}`, leaf]));
  }
}

/**
 * A JSON object given as entries, so that any key — `__proto__`, "", a long one — becomes an own
 * property (Object.fromEntries defines properties; it never sets a prototype).
 */
export class Obj {
  constructor(readonly entries: readonly (readonly [unknown, unknown])[]) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([k, v]) => `${fc.stringify(k)}: ${fc.stringify(v)}`).join(', ')}}`;
  }
  value(): Record<string, unknown> {
    return Object.fromEntries(this.entries.map(([k, v]) => [String(materialize(k)), materialize(v)]));
  }
}

/** The value to send: descriptions expanded, `undefined` members left out. */
export function materialize(value: unknown): unknown {
  if (value instanceof Long || value instanceof Deep || value instanceof Wide || value instanceof Obj) return value.value();
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : materialize(item)));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, materialize(v)]),
    );
  }
  return value;
}

/** A short, printable rendering of a sent value: long strings and deep values are abbreviated. */
export function summarize(value: unknown, depth = 0): string {
  if (typeof value === 'string') {
    return value.length > 120 ? `${JSON.stringify(value.slice(0, 40))}…(${value.length} chars)` : JSON.stringify(value);
  }
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (depth > 6) return Array.isArray(value) ? '[…deep]' : '{…deep}';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 8).map((item) => summarize(item, depth + 1));
    return `[${shown.join(', ')}${value.length > 8 ? `, …(${value.length} items)` : ''}]`;
  }
  const entries = Object.entries(value);
  const shown = entries.slice(0, 8).map(([k, v]) => `${summarize(k)}: ${summarize(v, depth + 1)}`);
  return `{${shown.join(', ')}${entries.length > 8 ? `, …(${entries.length} keys)` : ''}}`;
}

// ---------------------------------------------------------------------------------------------
// Characters

const chars = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));

/** C0 controls a database cannot store alike on SQLite and PostgreSQL (all but tab, LF, CR). */
export const FORBIDDEN_CONTROLS = [...chars(0x00, 0x08), '\x0B', '\x0C', ...chars(0x0e, 0x1f)];
/** Unpaired UTF-16 surrogates: high halves alone, low halves alone. */
export const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D', '\uDE00'];
/** Controls that are allowed (tab, newline, carriage return, DEL, C1). */
export const ALLOWED_CONTROLS = ['\t', '\n', '\r', '\r\n', '\x7F', '\x80', '\x85', '\x9F'];
/** Valid but awkward text: emoji and ZWJ sequences, bidi overrides, zero-width and combining characters. */
export const TRICKY_UNICODE = [
  '😀',
  '👩‍👩‍👧',
  '\u202E',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u2028',
  '\u2029',
  'e\u0301',
  'ﬃ',
  'Ａ',
  'ß',
  'İ',
  '\u00A0',
  '𝕏',
  '中文',
  'עברית',
];
/** Metacharacters of SQL, LIKE patterns, JSON, templates and JavaScript property names. */
export const INJECTION = [
  "'",
  '"',
  '\\',
  '%',
  '_',
  '%_%',
  '*',
  "' OR '1'='1",
  '"; DROP TABLE "Record"; --',
  '$1',
  '?',
  '${x}',
  '{{x}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '\\u0000',
  '\\x00',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '__typename',
];

/** True for the strings §5.1 says no database may store: forbidden C0 controls, unpaired surrogates. */
export const UNSTORABLE = /[\0-\x08\x0B\x0C\x0E-\x1F]|\p{Cs}/u;
export const isUnstorable = (text: string) => UNSTORABLE.test(text);

const badChar = fc.oneof(fc.constantFrom(...FORBIDDEN_CONTROLS), fc.constantFrom(...LONE_SURROGATES));
const anyOddChar = fc.oneof(
  { weight: 3, arbitrary: badChar },
  { weight: 2, arbitrary: fc.constantFrom(...ALLOWED_CONTROLS, ...TRICKY_UNICODE) },
);

/** `text` with `insert` spliced in at position `at` (modulo its length + 1). */
const splice = (text: string, insert: string, at: number) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i);
};

// ---------------------------------------------------------------------------------------------
// Strings, numbers, JSON

/**
 * Strings: a valid value (from `valid`), a valid value with a control character, surrogate or
 * odd character spliced in, short mixes of odd characters, injection strings, blanks, and
 * (rarely) very long strings — up to past the 1 MiB body limit.
 */
export function stringArb(valid: readonly string[], validWeight = 6, long = true): fc.Arbitrary<unknown> {
  const validArb = valid.length ? fc.constantFrom(...valid) : fc.constant('x');
  return fc.oneof(
    ...(validWeight > 0 ? [{ weight: validWeight, arbitrary: validArb }] : []),
    { weight: 4, arbitrary: fc.tuple(validArb, anyOddChar, fc.nat()).map(([text, odd, at]) => splice(text, odd, at)) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof(anyOddChar, fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 6 })
        .map((parts) => parts.join('')),
    },
    { weight: 2, arbitrary: fc.constantFrom(...INJECTION, ...TRICKY_UNICODE, '', ' ', '   ', '\n', '\t') },
    {
      weight: long ? 1 : 0,
      arbitrary: fc
        .tuple(
          validArb,
          fc.constantFrom('a', 'é', '😀', '\u0000', '\uD800', ' '),
          fc.oneof({ weight: 6, arbitrary: fc.constantFrom(64, 65, 101, 201, 256, 1_001, 10_001) }, { weight: 2, arbitrary: fc.constantFrom(65_537, 100_001) }, { weight: 1, arbitrary: fc.constant(1_100_000) }),
        )
        .map(([prefix, unit, count]) => new Long(unit, count, prefix)),
    },
  );
}

/** The numbers GraphQL's Int refuses or a database column cannot hold, and boundaries. */
export const HOSTILE_NUMBERS = [
  0,
  -1,
  1,
  -0,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53 + 1,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  1.5,
  -1.5,
  0.1,
];

/** Ints: valid values (from `valid`), boundaries and overflows, any 32-bit integer, any double. */
export function intArb(valid: readonly number[], validWeight = 5): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: validWeight, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

/** A value of the wrong JSON type for the position it is sent in (GraphQL coercion must refuse it with a code). */
export const wrongTypeArb: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  true,
  1,
  -1,
  2 ** 40,
  '1',
  'true',
  '',
  {},
  [],
  [1],
  { a: 1 },
  [[]],
  new Obj([['__proto__', { polluted: true }]]),
);

/** Keys an object's properties must refuse or survive. */
export const HOSTILE_KEYS: readonly unknown[] = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '\u0000',
  'firstName\u0000',
  '\uD800',
  'a.b',
  '$gt',
  '__typename',
  ' firstName',
  'FIRSTNAME',
  '😀',
  new Long('k', 10_000),
];

export interface FieldShape {
  key: string;
  type: 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE' | 'EMAIL' | 'PHONE' | 'URL';
}

/** Valid values (and near misses) for a field type, hostile strings mixed in for the text types. */
export function fieldValueArb(type: FieldShape['type'], names: readonly string[], long = true): fc.Arbitrary<unknown> {
  switch (type) {
    case 'NUMBER':
      return fc.oneof(intArb([0, 1, 42, 99.5, -7]), fc.constantFrom('42', '1e3'));
    case 'BOOLEAN':
      return fc.constantFrom<unknown>(true, false, 'true', 0, 1);
    case 'DATE':
      return stringArb(['2024-01-31', '2024-02-29', '2024-02-30', '2024-01-31T10:00:00Z', '0000-01-01', '9999-12-31', '+275760-09-13', '2024-13-01'], 6, long);
    case 'EMAIL':
      return stringArb(['ada@example.com', 'a@b.c', 'not-an-email', 'ADA@EXAMPLE.COM', ' ada@example.com '], 6, long);
    case 'PHONE':
      return stringArb(['+44 20 7946 0958', '555-0100', '(555) 0100', '12', '+1'.padEnd(40, '0')], 6, long);
    case 'URL':
      return stringArb(['https://example.com', 'http://[::1]/', 'javascript:alert(1)', 'ftp://example.com', 'https://exa mple.com'], 6, long);
    case 'TEXT':
      return stringArb(names, 6, long);
  }
}

/**
 * Record properties: the objects' own fields with valid, near-miss and hostile values; hostile
 * keys; hostile values of every JSON type; deep values (a field nested thousands of levels) and
 * wide objects (thousands of keys).
 */
export function propertiesArb(fields: readonly FieldShape[], names: readonly string[], long = true): fc.Arbitrary<unknown> {
  const leafOf = (longStrings: boolean): fc.Arbitrary<unknown> =>
    fc.oneof(stringArb(names, 6, longStrings), intArb([0, 1, 42]), fc.boolean(), fc.constant(null));
  // Very long strings only as a property's own value: repeated inside arrays, wide or deep
  // values they would make bodies of gigabytes.
  const leaf = leafOf(long);
  const shortLeaf = leafOf(false);
  const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(shortLeaf, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom(...HOSTILE_KEYS), shortLeaf), { maxLength: 3 }).map((entries) => new Obj(entries)) },
    { weight: long ? 1 : 0, arbitrary: fc.tuple(fc.constantFrom<'object' | 'array'>('object', 'array'), fc.constantFrom(16, 100, 1_000, 5_000), shortLeaf).map(([kind, depth, value]) => new Deep(kind, depth, value)) },
  );
  const fieldEntry = fields.length
    ? fc.constantFrom(...fields).chain((field) =>
        fc.tuple(fc.constant<unknown>(field.key), fc.oneof({ weight: 3, arbitrary: fieldValueArb(field.type, names, long) }, { weight: 2, arbitrary: hostileValue })),
      )
    : fc.tuple(fc.constant<unknown>('name'), hostileValue);
  const entry = fc.oneof(
    { weight: 6, arbitrary: fieldEntry },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_KEYS), hostileValue) },
  );
  const keyOf = (e: readonly [unknown, unknown]) => (e[0] instanceof Long ? `long:${e[0].count}` : String(e[0]));
  return fc.oneof(
    { weight: 10, arbitrary: fc.uniqueArray(entry, { maxLength: 6, selector: keyOf }).map((entries) => new Obj(entries)) },
    {
      weight: long ? 1 : 0,
      arbitrary: fc
        .tuple(fc.constantFrom(...fields.map((field) => field.key), 'x'), fc.constantFrom<'object' | 'array'>('object', 'array'), fc.constantFrom(100, 1_000, 10_000))
        .map(([key, kind, depth]) => new Obj([[key, new Deep(kind, depth, 'x')]])),
    },
    { weight: long ? 1 : 0, arbitrary: fc.tuple(fc.constantFrom(100, 10_000), shortLeaf).map(([width, value]) => new Wide(width, value)) },
  );
}

// ---------------------------------------------------------------------------------------------
// Global ids

export const NODE_TYPES = ['ApiKey', 'AssociationLabel', 'AssociationEvent', 'Association', 'Record', 'Object', 'User', 'Workspace'] as const;
export type NodeTypeName = (typeof NODE_TYPES)[number];

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Numbers past a 32-bit id column (PostgreSQL `integer`): they must answer as missing, never reach the database. */
export const TOO_LARGE = ['2147483648', '4294967296', '9999999999', '99999999999999', '9007199254740993', '99999999999999999999'];

/** What the numeric part of a forged id decodes to: too large, negative, fractional, hex, empty… */
export const FORGED_NUMBERS = [
  ...TOO_LARGE,
  ...TOO_LARGE,
  '0',
  '-1',
  '-2147483648',
  '1.5',
  '1e3',
  '0x10',
  '0x7fffffff',
  '',
  ' 1',
  '1 ',
  '01',
  '+1',
  '2147483647',
  '1'.repeat(400),
  'NaN',
  'Infinity',
  '١٢',
  '1\u0000',
  '1:2',
  'null',
];

/**
 * Ids: real ids of the expected type (mostly, so operations reach deep), real ids of other
 * types, of another workspace and of deleted rows; forged ids that decode to too-large,
 * negative, fractional, hex or empty numbers or name other types; structurally broken and
 * garbage base64; hostile strings; and JSON numbers (GraphQL's ID accepts integers).
 */
export function idArb(type: NodeTypeName | undefined, real: readonly string[], other: readonly string[], validWeight = 5, long = true): fc.Arbitrary<unknown> {
  const typeNames = fc.constantFrom(...(type ? [type, type] : []), ...NODE_TYPES, 'Nope', 'record', 'RECORD', '', `${type ?? 'Record'} `, '__proto__');
  const decoded = fc.tuple(typeNames, fc.constantFrom(...FORGED_NUMBERS)).map(([name, number]) => b64(`${name}:${number}`));
  const realOrAny = real.length ? real : other;
  const t = type ?? 'Record';
  const broken = fc.constantFrom(b64(t), b64(`:1`), b64(`${t}:1:1`), b64(`${t}::1`), b64(`${t}:`), b64(`:`), '', '=', '====', '!!!!', '1', '42', 'null');
  const mangled = fc.tuple(fc.constantFrom(...realOrAny), fc.nat(3)).map(([id, how]) =>
    how === 0
      ? id.replace(/=+$/, '')
      : how === 1
        ? id.replace(/\+/g, '-').replace(/\//g, '_') + '='
        : how === 2
          ? ` ${id} `
          : id.toLowerCase(),
  );
  return fc.oneof(
    { weight: validWeight, arbitrary: realOrAny.length ? fc.constantFrom(...realOrAny) : decoded },
    { weight: 2, arbitrary: other.length ? fc.constantFrom(...other) : decoded },
    { weight: 3, arbitrary: decoded },
    { weight: 1, arbitrary: broken },
    { weight: 1, arbitrary: mangled },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 24 }) },
    { weight: 1, arbitrary: stringArb(realOrAny, 0, long) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(1, 0, -1, 2 ** 31, 1e20) },
  );
}

const MAX_BODY = 64 * 1024 * 1024;

/**
 * JSON text of a value, without recursion: a value nested tens of thousands of levels deep is
 * serialized as easily as a flat one (JSON.stringify overflows the stack on it).
 */
export function toJson(value: unknown): string {
  const out: string[] = [];
  let length = 0;
  const stack: ({ text: string } | { value: unknown })[] = [{ value }];
  while (stack.length) {
    const frame = stack.pop()!;
    if ('text' in frame) {
      out.push(frame.text);
      continue;
    }
    const item = frame.value;
    if (Array.isArray(item)) {
      stack.push({ text: ']' });
      for (let i = item.length - 1; i >= 0; i -= 1) {
        stack.push({ value: item[i] === undefined ? null : item[i] });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item).filter(([, inner]) => inner !== undefined);
      stack.push({ text: '}' });
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        stack.push({ value: entries[i]![1] });
        stack.push({ text: `${JSON.stringify(entries[i]![0])}:` });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '{' });
    } else {
      const text = JSON.stringify(item) ?? 'null';
      length += text.length;
      // A guard on the generators: bodies are meant to reach past the server's limit, not to
      // exhaust the test's memory.
      if (length > MAX_BODY) throw new Error(`the fuzzer built a body over ${MAX_BODY} characters`);
      out.push(text);
    }
  }
  return out.join('');
}
