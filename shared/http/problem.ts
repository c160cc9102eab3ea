/** RFC 9457 problem details: the only error shape the API returns. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable request'],
  429: ['too-many-requests', 'Too many requests'],
  500: ['internal', 'Internal error'],
  502: ['bad-gateway', 'Upstream failure'],
  503: ['unavailable', 'Service unavailable'],
};

/** Problem type URIs are relative references documented in docs/errors.md. */
export const problemType = (slug: string) => `/problems/${slug}`;

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly body: ProblemBody;
  constructor(
    readonly status: number,
    detail: string,
    options: {
      slug?: string;
      title?: string;
      errors?: ProblemBody['errors'];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    const [slug, title] = TITLES[status] ?? ['error', 'Error'];
    this.body = {
      type: problemType(options.slug ?? slug),
      title: options.title ?? title,
      status,
      detail,
      ...(options.errors ? { errors: options.errors } : {}),
      ...options.extensions,
    };
    this.headers = options.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

export const problems = {
  validation: (errors: ProblemBody['errors'], detail = 'The request is not valid.') =>
    new HttpProblem(400, detail, { slug: 'validation-error', title: 'Validation failed', errors }),
  badRequest: (detail: string) => new HttpProblem(400, detail),
  unauthorized: (detail = 'Missing or invalid credentials.') => new HttpProblem(401, detail, { headers: { 'www-authenticate': 'Bearer' } }),
  forbidden: (detail = 'These credentials may not call this endpoint.') => new HttpProblem(403, detail),
  notFound: (detail = 'No such resource.') => new HttpProblem(404, detail),
  conflict: (detail: string, extensions?: Record<string, unknown>) => new HttpProblem(409, detail, { extensions }),
  tooLarge: (limit: number) => new HttpProblem(413, `The request body exceeds ${limit} bytes.`),
  unsupportedMediaType: (detail: string) => new HttpProblem(415, detail),
  unprocessable: (reason: string, detail: string) =>
    new HttpProblem(422, detail, { slug: reason.replaceAll('_', '-'), extensions: { reason } }),
  unavailable: (detail: string) => new HttpProblem(503, detail, { headers: { 'retry-after': '5' } }),
  internal: () => new HttpProblem(500, 'The request could not be completed. It is safe to retry.'),
};

export function problemResponse(problem: HttpProblem) {
  return {
    statusCode: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...problem.headers },
    body: JSON.stringify(problem.body),
  };
}
