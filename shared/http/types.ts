import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ServiceRole } from '../security/service-keys';
import type { Schema } from '../validation';

/** The event API Gateway's HTTP API (payload v2) hands to Lambda; a JWT authorizer adds `authorizer.jwt`. */
export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims: Record<string, string | number | boolean | string[]>; scopes: string[] | null } };
  };
};
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpLambda = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export type RouteAuth =
  | { kind: 'public' }
  | { kind: 'stripe-signature' }
  | { kind: 'service'; roles: readonly ServiceRole[] }
  | { kind: 'shopper' };

export interface ResponseSpec {
  description: string;
  schema?: Schema;
  contentType?: string;
  /** Media types the same response is also served as when the client asks (`Accept`); documented by type only. */
  alternateContentTypes?: readonly string[];
}

/** Everything the edge knows about one route: it drives validation, auth and the OpenAPI document. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  auth: RouteAuth;
  body?: Schema;
  query?: Schema;
  params?: Schema;
  /**
   * The `body` schema is also accepted as `application/x-www-form-urlencoded` (a page's form that works
   * without JavaScript): the handler parses and validates the body itself, so it can answer a form
   * with HTML (`parseFormOrJson` in shared/http/form.ts).
   */
  formBody?: true;
  /** Non-JSON request body (e.g. `text/csv`, the raw Stripe payload), documented but parsed by the handler. */
  rawBody?: { contentType: string; description: string };
  responses: Record<number, ResponseSpec>;
}
