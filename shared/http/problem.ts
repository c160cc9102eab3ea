/** RFC 9457 problem details: the only error shape the API returns. */
import type { RejectionReason, UseCaseError } from '../errors';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

/**
 * Every problem type the API answers with, besides the 422s named after a rejection reason. The
 * first entry of a status is its default type. docs/errors.md lists each (tests/unit/errors-doc.test.ts).
 */
export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'Validation failed' },
  'bad-request': { status: 400, title: 'Bad request' },
  'invalid-signature': { status: 400, title: 'Invalid signature' },
  'invalid-report': { status: 400, title: 'Invalid report' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  gone: { status: 410, title: 'Gone' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'event-not-applied': { status: 500, title: 'Event not applied' },
  'bad-gateway': { status: 502, title: 'Upstream failure' },
  'payment-provider-failed': { status: 502, title: 'Payment provider failure' },
  unavailable: { status: 503, title: 'Service unavailable' },
  'payment-provider-busy': { status: 503, title: 'Payment provider busy' },
  'event-in-progress': { status: 503, title: 'Event in progress' },
} as const satisfies Record<string, { status: number; title: string }>;

type Dashed<S extends string> = S extends `${infer A}_${infer B}` ? `${A}-${Dashed<B>}` : S;
export type ProblemSlug = keyof typeof PROBLEM_TYPES;
/** A 422 is typed by its reason: `/problems/below-min-subtotal`. */
export type RejectionSlug = Dashed<RejectionReason>;
export const rejectionSlug = (reason: RejectionReason) => reason.replaceAll('_', '-') as RejectionSlug;

const DEFAULT_SLUG = new Map<number, ProblemSlug>();
for (const [slug, { status }] of Object.entries(PROBLEM_TYPES) as Array<[ProblemSlug, { status: number }]>) {
  if (!DEFAULT_SLUG.has(status)) DEFAULT_SLUG.set(status, slug);
}

/** Problem type URIs are relative references documented in docs/errors.md. */
export const problemType = (slug: string) => `/problems/${slug}`;

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly body: ProblemBody;
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    detail: string,
    options: {
      slug?: ProblemSlug | RejectionSlug;
      errors?: ProblemBody['errors'];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    const slug = options.slug ?? DEFAULT_SLUG.get(status) ?? 'internal';
    const known = (PROBLEM_TYPES as Record<string, { title: string }>)[slug];
    this.body = {
      type: problemType(slug),
      title: known?.title ?? (status === 422 ? 'Unprocessable request' : 'Error'),
      status,
      detail,
      ...(options.errors ? { errors: options.errors } : {}),
      ...options.extensions,
    };
    this.headers = options.headers ?? {};
  }
}

export const problems = {
  validation: (errors: ProblemBody['errors'], detail = 'The request is not valid.') =>
    new HttpProblem(400, detail, { slug: 'validation-error', errors }),
  badRequest: (detail: string) => new HttpProblem(400, detail, { slug: 'bad-request' }),
  unauthorized: (detail = 'Missing or invalid credentials.') => new HttpProblem(401, detail, { headers: { 'www-authenticate': 'Bearer' } }),
  forbidden: (detail = 'These credentials may not call this endpoint.') => new HttpProblem(403, detail),
  notFound: (detail = 'No such resource.') => new HttpProblem(404, detail),
  methodNotAllowed: (detail: string) => new HttpProblem(405, detail),
  tooLarge: (limit: number) => new HttpProblem(413, `The request body exceeds ${limit} bytes.`),
  unsupportedMediaType: (detail: string) => new HttpProblem(415, detail),
  internal: () => new HttpProblem(500, 'The request could not be completed. It is safe to retry.'),
};

export function problemResponse(problem: HttpProblem) {
  return {
    statusCode: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...problem.headers },
    body: JSON.stringify(problem.body),
  };
}

/** The 502 and 503 answers for a dependency: the payment provider has its own types (docs/errors.md). */
const STRIPE_BUSY: ProblemSlug = 'payment-provider-busy';
const STRIPE_FAILED: ProblemSlug = 'payment-provider-failed';

/**
 * The one mapping from what use cases and adapters raise (shared/errors.ts) to the answer a client
 * gets. Every route goes through it (the handler wrapper's error middleware).
 */
export function problemFor(error: UseCaseError): HttpProblem {
  const extensions = error.details;
  switch (error.kind) {
    case 'invalid_input':
      return problems.validation(error.errors, error.message);
    case 'not_found':
      return new HttpProblem(404, error.message, { extensions });
    case 'conflict':
      return new HttpProblem(409, error.message, { extensions });
    case 'gone':
      return new HttpProblem(410, error.message, { extensions });
    case 'rejected':
      return new HttpProblem(422, error.message, { slug: rejectionSlug(error.reason), extensions });
    case 'rate_limited':
      return new HttpProblem(429, error.message, { headers: { 'retry-after': String(error.retryAfterSeconds) } });
    case 'provider_unavailable': {
      const slug: ProblemSlug = error.provider === 'stripe' && error.reason === 'busy' ? STRIPE_BUSY : 'unavailable';
      return new HttpProblem(503, error.message, { slug, headers: { 'retry-after': String(error.retryAfterSeconds) } });
    }
    case 'provider_failed':
      return new HttpProblem(502, error.message, {
        ...(error.provider === 'stripe' ? { slug: STRIPE_FAILED } : {}),
        ...(error.retryAfterSeconds === null ? {} : { headers: { 'retry-after': String(error.retryAfterSeconds) } }),
      });
  }
}
