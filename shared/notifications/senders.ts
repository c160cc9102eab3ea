/**
 * Delivery of rendered notices. The job only knows `NotificationSender`; AWS uses SES v2, a local
 * run (no `SES_FROM_ADDRESS`, or `NOTIFICATIONS_CHANNEL=outbox`) writes into the member's outbox in
 * the table and logs one structured line, with the rendered subject and text outside Lambda. The SES
 * sender logs nothing of a message.
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { ReminderKind } from '../domain/reminders';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import type { ReminderStore } from '../storage/reminder-store';

export interface OutgoingMessage {
  reminderId: string;
  memberId: string;
  kind: ReminderKind;
  to: string | null;
  subject: string;
  text: string;
  /** Marketing (win-back) or transactional: SES list management only applies to marketing. */
  marketing: boolean;
}

/**
 * This message can never be delivered as it is (no address, rejected by SES, malformed address):
 * retrying changes nothing. `reason` is an error code, never the address or the text.
 */
export class UndeliverableError extends Error {
  override name = 'UndeliverableError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * No message can be sent right now, whatever its content (sending paused, account suspended, daily
 * quota used up, configuration set or template missing): the run stops claiming and puts back what
 * it holds, and the failure is the run's, not the reminder's.
 */
export class SenderUnavailableError extends Error {
  override name = 'SenderUnavailableError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** SES v2 `SendEmail` errors by what they say about the next attempt (AWS SDK error `name`s). */
const SES_UNDELIVERABLE = new Set(['MessageRejected', 'BadRequestException']);
const SES_UNAVAILABLE = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'LimitExceededException',
]);

/** Maps an SES error to the job's categories; anything else (throttling after the SDK's retries, network) is transient. */
export function classifySesError(error: unknown): unknown {
  const name = error instanceof Error ? error.name : '';
  // The SES message can name the recipient ("... failed the check: a@b.c"): keep only the code.
  if (SES_UNDELIVERABLE.has(name)) return new UndeliverableError(name);
  if (SES_UNAVAILABLE.has(name)) return new SenderUnavailableError(name);
  return error;
}

export interface NotificationSender {
  readonly channel: 'email' | 'outbox';
  /** Needs an address to deliver at all (the outbox does not). */
  readonly needsAddress: boolean;
  send(message: OutgoingMessage): Promise<{ providerMessageId: string | null }>;
}

export class OutboxSender implements NotificationSender {
  readonly channel = 'outbox' as const;
  readonly needsAddress = false;
  /**
   * @param options.printMessages log the rendered subject and text too: on a developer machine the log
   *   is where one reads the notices. Never inside Lambda (see `notificationSenderFromEnv`).
   */
  constructor(
    private readonly store: ReminderStore,
    private readonly options: { printMessages?: boolean } = {},
  ) {}

  async send(message: OutgoingMessage) {
    const queuedAt = new Date().toISOString();
    await this.store.writeOutbox(message.memberId, message.reminderId, {
      kind: message.kind,
      to: message.to,
      subject: message.subject,
      text: message.text,
      queuedAt,
    });
    // No address and no member id, ever; the text only in a local run.
    logger.info('notification written to outbox', {
      kind: message.kind,
      memberRef: await memberRef(message.memberId),
      ...(this.options.printMessages ? { subject: message.subject, text: message.text } : {}),
    });
    return { providerMessageId: null };
  }
}

/**
 * SES v2 `SendEmail`. Bounces and complaints: with the account-level suppression list (or a
 * configuration set's suppression options) enabled, SES itself refuses suppressed addresses. A
 * template (`SES_TEMPLATE_NAME`, variables `subject` and `text`) is used when configured, else
 * simple content.
 */
export class SesSender implements NotificationSender {
  readonly channel = 'email' as const;
  readonly needsAddress = true;
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
    private readonly options: { configurationSet?: string; templateName?: string } = {},
  ) {}

  async send(message: OutgoingMessage) {
    if (!message.to) throw new UndeliverableError('no_address');
    const { SendEmailCommand } = await import('@aws-sdk/client-sesv2');
    const content = this.options.templateName
      ? {
          Template: {
            TemplateName: this.options.templateName,
            TemplateData: JSON.stringify({ subject: message.subject, text: message.text }),
          },
        }
      : { Simple: { Subject: { Data: message.subject, Charset: 'UTF-8' }, Body: { Text: { Data: message.text, Charset: 'UTF-8' } } } };
    try {
      const out = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [message.to] },
          Content: content,
          ...(this.options.configurationSet ? { ConfigurationSetName: this.options.configurationSet } : {}),
          EmailTags: [{ Name: 'kind', Value: message.kind }],
        }),
      );
      return { providerMessageId: out.MessageId ?? null };
    } catch (error) {
      throw classifySesError(error);
    }
  }
}

export async function notificationSenderFromEnv(store: ReminderStore, env: NodeJS.ProcessEnv = process.env): Promise<NotificationSender> {
  if (env.NOTIFICATIONS_CHANNEL === 'outbox' || !env.SES_FROM_ADDRESS)
    return new OutboxSender(store, { printMessages: !env.AWS_LAMBDA_FUNCTION_NAME });
  const { SESv2Client } = await import('@aws-sdk/client-sesv2');
  // A send that hangs must not hold the whole run: each attempt gets a few seconds, then the reminder is retried later.
  const client = new SESv2Client({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true },
  });
  return new SesSender(client, env.SES_FROM_ADDRESS, {
    ...(env.SES_CONFIGURATION_SET ? { configurationSet: env.SES_CONFIGURATION_SET } : {}),
    ...(env.SES_TEMPLATE_NAME ? { templateName: env.SES_TEMPLATE_NAME } : {}),
  });
}
