import type { Schema } from '../validation';
import { type Infer, issuesToErrors } from '../validation';
import { problems } from './problem';

export type ParsedBody<S extends Schema> =
  | { ok: true; form: boolean; value: Infer<S> }
  | { ok: false; form: boolean; raw: Record<string, string>; errors: Array<{ path: string; message: string }> };

/**
 * The body of a route with `formBody`: JSON, or a form post (`application/x-www-form-urlencoded`) whose
 * empty fields count as not given (a form sends every field). Another content type is a 415 and
 * malformed JSON a 400, as everywhere; a body that fails the schema is returned with its errors, so the
 * handler can answer a form with the form again.
 */
export function parseFormOrJson<S extends Schema>(schema: S, contentType: string, raw: string): ParsedBody<S> {
  const form = /^application\/x-www-form-urlencoded\b/i.test(contentType);
  let value: unknown;
  let fields: Record<string, string> = {};
  if (form) {
    for (const [key, v] of new URLSearchParams(raw)) if (v.trim() !== '') fields[key] = v;
    value = fields;
  } else if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    try {
      value = raw.length === 0 ? undefined : JSON.parse(raw);
    } catch {
      throw problems.badRequest('The request body is not valid JSON.');
    }
    fields = typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : {};
  } else {
    throw problems.unsupportedMediaType('Send the request body as application/json or application/x-www-form-urlencoded.');
  }
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, form, value: result.data as Infer<S> };
  const errors = issuesToErrors(result.error.issues).map((e) => ({ ...e, path: e.path === '/' ? '/body' : `/body${e.path}` }));
  return { ok: false, form, raw: fields, errors };
}
