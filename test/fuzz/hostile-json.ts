/**
 * JSON values and JSON text for hostile bodies.
 *
 * Objects are built with `Object.fromEntries`, so a `__proto__` key is an own property, written
 * out like any other key. `Raw` pieces are written verbatim: number literals JSON.stringify cannot
 * produce (`1e400`), nesting thousands of levels deep, strings of megabytes. They are made when
 * the text is written, so fast-check neither holds nor shrinks megabytes. `Ref` pieces stand for
 * an id known only while the suite runs (a file uploaded earlier, a minted key) and are resolved
 * when the request is written.
 */
import fc from 'fast-check';

export class Raw {
  readonly label: string;
  readonly make: () => string;
  constructor(label: string, make: () => string) {
    this.label = label;
    this.make = make;
  }
  [fc.toStringMethod](): string {
    return `Raw(${this.label})`;
  }
}

export type RefKind = 'file' | 'batch' | 'minted-key' | 'minted-token';

export class Ref {
  readonly kind: RefKind;
  readonly pick: number;
  constructor(kind: RefKind, pick: number) {
    this.kind = kind;
    this.pick = pick;
  }
  [fc.toStringMethod](): string {
    return `Ref(${this.kind}#${this.pick})`;
  }
}

export type Resolve = (ref: Ref) => string;

/** Percent-encodes any string: lone surrogates (which `encodeURIComponent` refuses) become U+FFFD first. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}

export function toJsonText(value: unknown, resolve: Resolve): string {
  if (value instanceof Raw) return value.make();
  if (value instanceof Ref) return JSON.stringify(resolve(value));
  if (Array.isArray(value)) return `[${value.map((item) => toJsonText(item, resolve)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${toJsonText((value as Record<string, unknown>)[key], resolve)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An object from entries; later entries win, `__proto__` stays an ordinary own key. */
export function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  return Object.fromEntries(entries);
}

export const deeplyNested: fc.Arbitrary<Raw> = fc
  .record({ depth: fc.constantFrom(100, 1_000, 10_000, 100_000, 1_000_000), kind: fc.constantFrom('array', 'object') })
  .map(
    ({ depth, kind }) =>
      new Raw(`${kind} nested ${depth} deep`, () =>
        kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      ),
  );

export const hugeString: fc.Arbitrary<Raw> = fc
  .record({
    length: fc.constantFrom(10_000, 100_000, 1_000_000),
    unit: fc.constantFrom('a', 'é', '\u{1F600}', '\\', '"', '\u0000', '\ud800', 'sk-'),
  })
  .map(({ length, unit }) => new Raw(`${JSON.stringify(unit)} x ${length}`, () => JSON.stringify(unit.repeat(length))));

const ODD_NUMBER_LITERALS = ['1e400', '-1e400', '1e-400', '-0', '0.0000000000000000000000001', '99999999999999999999999999999', '9007199254740993', '1.5', '1E3'];

export const oddNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...ODD_NUMBER_LITERALS).map((text) => new Raw(text, () => text)),
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, 0.5),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Keys that trip naive object handling. */
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'a.b', 'a[0]', '\u0000', 'é'];

export const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\uffff', '../../etc/passwd', '%00', '${x}', '<script>', "'; DROP TABLE files; --", 'null', 'true', '0', '-1', 'NaN', 'Infinity'),
  fc.constantFrom(...HOSTILE_KEYS),
);

/** Any JSON value, small, with hostile keys and odd leaves. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    oddNumber,
    oddString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(oddString, fc.constantFrom(...HOSTILE_KEYS)), tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value;

/** A value meant for a field: usually of the right kind, sometimes anything at all. */
export function fieldValue<T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: 2, arbitrary: anyJson }, { weight: 1, arbitrary: hugeString }, { weight: 1, arbitrary: deeplyNested });
}

/**
 * An object with the given fields (each may be left out), plus hostile extra keys. Fields are
 * written in a random order.
 */
export function objectWith(fields: Record<string, fc.Arbitrary<unknown>>, options: { required?: readonly string[] } = {}): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(([name, arbitrary]) =>
    options.required?.includes(name)
      ? fc.oneof({ weight: 9, arbitrary: arbitrary.map((value) => [[name, value] as const]) }, { weight: 1, arbitrary: fc.constant([]) })
      : fc.option(arbitrary.map((value) => [[name, value] as const]), { freq: 2, nil: undefined }).map((entry) => entry ?? []),
  );
  const extras = fc.array(fc.tuple(fc.constantFrom(...HOSTILE_KEYS, 'extra_field', 'user'), anyJson), { maxLength: 2 });
  return fc
    .tuple(fc.tuple(...entries), fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: extras }))
    .map(([chosen, extra]) => objectOf([...chosen.flat(), ...extra]));
}
