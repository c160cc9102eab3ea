import { cancellationRequestSchema, cancellationsRoute } from '#shared/api/compliance';
import { pageLanguage, renderCancelPage, renderReceivedPage } from '#shared/domain/cancel-page';
import { RateLimitedError } from '#shared/errors';
import { parseFormOrJson } from '#shared/http/form';
import { httpHandler, json } from '#shared/http/handler';
import { html } from '#shared/http/html';
import { problems } from '#shared/http/problem';
import { cancellationRateLimiter, workQueue } from '#shared/runtime/compliance';
import { receiveCancellationRequest } from '#shared/usecases/cancellation-requests';

// Writes only (the function may not read the table): what it does cannot depend on whether a
// membership matches (docs/compliance.md, "No enumeration").
const deps = { limiter: cancellationRateLimiter(), queue: workQueue() };

/** `POST /v1/cancellations`: JSON answers JSON; the page's form answers HTML. */
export const handler = httpHandler(cancellationsRoute, async ({ event, rawBody, query, now }) => {
  const lang = pageLanguage(query.lang, event.headers['accept-language']);
  const parsed = parseFormOrJson(cancellationRequestSchema, event.headers['content-type'] ?? '', rawBody);
  if (!parsed.ok) {
    if (parsed.form) return html(400, renderCancelPage(lang, { values: parsed.raw, errors: parsed.errors }));
    throw problems.validation(parsed.errors);
  }
  const client = { address: event.requestContext.http.sourceIp, lang };
  try {
    const received = await receiveCancellationRequest(deps, parsed.value, client, now);
    if (!parsed.form) return json(202, received);
    return html(202, renderReceivedPage(lang, { ...parsed.value, type: parsed.value.type ?? 'ordinary' }, received));
  } catch (error) {
    if (parsed.form && error instanceof RateLimitedError) {
      return html(429, renderCancelPage(lang, { values: parsed.value, retryAfterSeconds: error.retryAfterSeconds }), {
        'retry-after': String(error.retryAfterSeconds),
      });
    }
    throw error;
  }
});
