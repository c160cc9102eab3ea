/**
 * The parameters a Stripe endpoint accepts, as a tree, and the check the double runs on every
 * request: an unknown name at any depth is `Received unknown parameter: a[b]`, a value outside an
 * enum is `Invalid a[b]: must be one of ...`, as Stripe answers (400, `param` naming the path).
 */
import { StripeApiError } from './errors';

// biome-ignore lint/suspicious/noExplicitAny: form-decoded Stripe parameters.
type Json = Record<string, any>;

export type ParamSpec =
  | { t: 'string' }
  | { t: 'int' }
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'metadata' }
  | { t: 'object'; fields: Record<string, ParamSpec> }
  | { t: 'array'; of: ParamSpec }
  /** A timestamp or `{ gt, gte, lt, lte }` (list filters on `created`). */
  | { t: 'range' }
  /** Also `''`, which Stripe reads as "unset". */
  | { t: 'emptyable'; of: ParamSpec }
  | { t: 'any' };

export const P = {
  str: { t: 'string' },
  int: { t: 'int' },
  bool: { t: 'bool' },
  meta: { t: 'metadata' },
  range: { t: 'range' },
  any: { t: 'any' },
  enum: (...values: string[]): ParamSpec => ({ t: 'enum', values }),
  obj: (fields: Record<string, ParamSpec>): ParamSpec => ({ t: 'object', fields }),
  arr: (of: ParamSpec): ParamSpec => ({ t: 'array', of }),
  emptyable: (of: ParamSpec): ParamSpec => ({ t: 'emptyable', of }),
} as const satisfies Record<string, ParamSpec | ((...args: never[]) => ParamSpec)>;

/** Parameters every endpoint takes. */
const COMMON: Record<string, ParamSpec> = { expand: P.arr(P.str) };

export const invalid = (message: string, param?: string, code?: string) =>
  new StripeApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) });

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function check(value: unknown, spec: ParamSpec, path: string): void {
  switch (spec.t) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') throw invalid(`Invalid string: ${path}`, path);
      return;
    case 'int':
      if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${String(value)}`, path);
      return;
    case 'bool':
      if (value !== 'true' && value !== 'false') throw invalid(`Invalid boolean: ${String(value)}`, path);
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw invalid(`Invalid ${path}: must be one of ${spec.values.join(', ')}`, path);
      }
      return;
    case 'emptyable':
      if (value !== '') check(value, spec.of, path);
      return;
    case 'metadata':
      if (value === '') return;
      if (!isObject(value)) throw invalid('Invalid object', path);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string' || v.length > 500 || k.length > 40) throw invalid(`Invalid metadata value for ${k}`, `${path}[${k}]`);
      }
      return;
    case 'range':
      check(value, typeof value === 'string' ? P.int : P.obj({ gt: P.int, gte: P.int, lt: P.int, lte: P.int }), path);
      return;
    case 'array':
      if (!Array.isArray(value)) throw invalid('Invalid array', path);
      for (const [i, item] of value.entries()) check(item, spec.of, `${path}[${i}]`);
      return;
    case 'object':
      if (!isObject(value)) throw invalid('Invalid object', path);
      checkFields(value, spec.fields, path);
      return;
  }
}

function checkFields(value: Json, fields: Record<string, ParamSpec>, prefix: string | null): void {
  for (const [name, v] of Object.entries(value)) {
    const path = prefix === null ? name : `${prefix}[${name}]`;
    const spec = fields[name];
    if (!spec) throw invalid(`Received unknown parameter: ${path}`, path);
    check(v, spec, path);
  }
}

/** Checks a request's decoded parameters against an endpoint's tree (plus `expand`). */
export function checkParams(params: Json, fields: Record<string, ParamSpec>): void {
  checkFields(params, { ...COMMON, ...fields }, null);
}

/** A `created`-style filter as a predicate. */
export function inRange(range: unknown, value: number): boolean {
  if (range === undefined) return true;
  if (typeof range === 'string') return value === Number(range);
  const r = range as Record<string, string | undefined>;
  return (
    (r.gt === undefined || value > Number(r.gt)) &&
    (r.gte === undefined || value >= Number(r.gte)) &&
    (r.lt === undefined || value < Number(r.lt)) &&
    (r.lte === undefined || value <= Number(r.lte))
  );
}
