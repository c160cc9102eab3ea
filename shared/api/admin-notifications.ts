import { REMINDER_KINDS } from '../domain/reminders';
import type { RouteSpec } from '../http/types';
import { array, boolean, enumOf, int, meta, nullable, optional, strictObject, string } from '../validation';
import { isoTimeSchema, jsonBodyProblems, memberIdSchema, problemResponses } from './common';

export const memberPathSchema = strictObject({ memberId: memberIdSchema });

const notificationSchema = strictObject({
  reminderId: string(),
  kind: enumOf(REMINDER_KINDS),
  status: enumOf(['queued', 'sending', 'sent', 'dropped']),
  dueAt: isoTimeSchema,
  scheduledAt: isoTimeSchema,
  sentAt: nullable(isoTimeSchema),
  channel: nullable(string()),
  digest: nullable(string()),
  droppedAt: nullable(isoTimeSchema),
  dropReason: nullable(string()),
  attempts: int(),
  /** Code of the last failed attempt (e.g. an SES error name), or of the refusal of an `undeliverable` one. */
  lastError: nullable(string()),
  message: nullable(strictObject({ subject: string(), text: string() })),
});

export const notificationsResponseSchema = strictObject({
  memberId: string(),
  marketingOptOut: boolean(),
  notifications: array(notificationSchema),
});

export const memberNotificationsRoute = {
  method: 'GET',
  path: '/v1/admin/members/{memberId}/notifications',
  operationId: 'listMemberNotifications',
  summary: 'Reminders queued, sent (with proof: time, channel, content digest) and dropped (with the reason) for one member.',
  tags: ['admin'],
  auth: { kind: 'service', roles: ['admin'] },
  params: memberPathSchema,
  responses: { 200: { description: 'The member’s notifications, by due time', schema: notificationsResponseSchema }, ...problemResponses },
} as const satisfies RouteSpec;

export const preferencesBodySchema = strictObject({ marketingOptOut: boolean() }).check(meta({ id: 'PreferencesUpdate' }));
export const preferencesResponseSchema = strictObject({
  memberId: string(),
  marketingOptOut: boolean(),
  updatedAt: optional(isoTimeSchema),
}).check(meta({ id: 'Preferences' }));

export const memberPreferencesRoute = {
  method: 'PUT',
  path: '/v1/admin/members/{memberId}/preferences',
  operationId: 'setMemberPreferences',
  summary: 'Sets the member’s marketing opt-out (win-back respects it; transactional notices do not). Addition to the contract.',
  tags: ['admin'],
  auth: { kind: 'service', roles: ['admin'] },
  params: memberPathSchema,
  body: preferencesBodySchema,
  responses: {
    200: { description: 'The stored preferences', schema: preferencesResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
  },
} as const satisfies RouteSpec;
