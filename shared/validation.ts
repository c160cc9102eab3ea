// One import point for zod. We use `zod/mini` with named imports because the full `zod` build and the
// `z` namespace pull ~450 KB into every Lambda bundle (see docs/decisions.md); English messages are
// installed once here so every problem+json `errors[].message` is readable.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export type { infer as Infer, input as Input, ZodMiniType as Schema } from 'zod/mini';
export {
  _default as withDefault,
  array,
  boolean,
  check,
  enum as enumOf,
  globalRegistry,
  gte,
  int,
  iso,
  literal,
  looseObject,
  lte,
  maximum,
  maxLength,
  meta,
  minimum,
  minLength,
  null as nullValue,
  nullable,
  number,
  object,
  optional,
  record,
  refine,
  regex,
  registry,
  strictObject,
  string,
  toJSONSchema,
  union,
  unknown,
  url,
} from 'zod/mini';

/** Turns zod issues into the contract's `errors: [{ path, message }]`. */
export function issuesToErrors(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path: issue.path.length === 0 ? '/' : `/${issue.path.map(String).join('/')}`,
    message: issue.message,
  }));
}
