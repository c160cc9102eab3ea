import { cancelPageRoute } from '#shared/api/compliance';
import { pageLanguage, renderCancelPage } from '#shared/domain/cancel-page';
import { httpHandler } from '#shared/http/handler';
import { html } from '#shared/http/html';

/** `GET /cancel`: the form of the cancellation without login; touches nothing but the page. */
export const handler = httpHandler(cancelPageRoute, async ({ query, event }) =>
  html(200, renderCancelPage(pageLanguage(query.lang, event.headers['accept-language']))),
);
