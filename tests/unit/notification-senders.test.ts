import type { SESv2Client } from '@aws-sdk/client-sesv2';
import {
  BadRequestException,
  MessageRejected,
  NotFoundException,
  SendingPausedException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { describe, expect, it, vi } from 'vitest';
import {
  notificationSenderFromEnv,
  OutboxSender,
  type OutgoingMessage,
  SenderUnavailableError,
  SesSender,
  UndeliverableError,
} from '#shared/notifications/senders';
import { logger } from '#shared/observability';
import type { ReminderStore } from '#shared/storage/reminder-store';

const message: OutgoingMessage = {
  reminderId: 'renewal_upcoming#sub_1#2027-01-10T00:00:00.000Z#7',
  memberId: 'm1',
  kind: 'renewal_upcoming',
  to: 'member@example.com',
  subject: 'Your membership renews',
  text: 'Prime Monthly: $14.99 ...',
  marketing: false,
};

function fakeSes() {
  const inputs: any[] = [];
  const client = {
    send: async (command: { input: unknown }) => {
      inputs.push(command.input);
      return { MessageId: 'ses-message-1' };
    },
  } as unknown as SESv2Client;
  return { client, inputs };
}

describe('SesSender', () => {
  it('sends simple content to the member from the configured address, with the configuration set', async () => {
    const { client, inputs } = fakeSes();
    const out = await new SesSender(client, 'notices@shop.example', { configurationSet: 'membership' }).send(message);
    expect(out).toEqual({ providerMessageId: 'ses-message-1' });
    expect(inputs[0]).toMatchObject({
      FromEmailAddress: 'notices@shop.example',
      Destination: { ToAddresses: ['member@example.com'] },
      Content: { Simple: { Subject: { Data: message.subject }, Body: { Text: { Data: message.text } } } },
      ConfigurationSetName: 'membership',
      EmailTags: [{ Name: 'kind', Value: 'renewal_upcoming' }],
    });
  });

  it('uses the SES template when one is configured', async () => {
    const { client, inputs } = fakeSes();
    await new SesSender(client, 'notices@shop.example', { templateName: 'membership-notice' }).send(message);
    expect(inputs[0].Content.Template).toEqual({
      TemplateName: 'membership-notice',
      TemplateData: JSON.stringify({ subject: message.subject, text: message.text }),
    });
  });

  it('refuses a message without an address', async () => {
    const { client, inputs } = fakeSes();
    await expect(new SesSender(client, 'notices@shop.example').send({ ...message, to: null })).rejects.toBeInstanceOf(UndeliverableError);
    expect(inputs).toEqual([]);
  });
});

describe('SesSender errors', () => {
  const failingWith = (error: Error) => ({ send: async () => Promise.reject(error) }) as unknown as SESv2Client;
  const meta = { $metadata: {} };

  it('a refusal of this message is undeliverable, keeping the SES code and never the address', async () => {
    for (const error of [
      new MessageRejected({
        message: 'Email address is not verified. The following identities failed the check: member@example.com',
        ...meta,
      }),
      new BadRequestException({ message: 'Missing final @domain: member@', ...meta }),
    ]) {
      const failure = await new SesSender(failingWith(error), 'notices@shop.example').send(message).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UndeliverableError);
      expect((failure as UndeliverableError).reason).toBe(error.name);
      expect(String((failure as Error).message)).not.toContain('member@');
    }
  });

  it('sending paused or missing configuration makes the sender unavailable; throttling stays a retryable error', async () => {
    for (const error of [
      new SendingPausedException({ message: 'paused', ...meta }),
      new NotFoundException({ message: 'Template x does not exist', ...meta }),
    ]) {
      await expect(new SesSender(failingWith(error), 'notices@shop.example').send(message)).rejects.toBeInstanceOf(SenderUnavailableError);
    }
    const throttled = new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta });
    await expect(new SesSender(failingWith(throttled), 'notices@shop.example').send(message)).rejects.toBe(throttled);
  });
});

describe('notificationSenderFromEnv', () => {
  const store = {} as ReminderStore;
  it('is the outbox without SES_FROM_ADDRESS or with NOTIFICATIONS_CHANNEL=outbox, else SES', async () => {
    expect(await notificationSenderFromEnv(store, {})).toBeInstanceOf(OutboxSender);
    expect(await notificationSenderFromEnv(store, { SES_FROM_ADDRESS: 'a@b.example', NOTIFICATIONS_CHANNEL: 'outbox' })).toBeInstanceOf(
      OutboxSender,
    );
    const ses = await notificationSenderFromEnv(store, { SES_FROM_ADDRESS: 'a@b.example', AWS_REGION: 'eu-west-1' });
    expect(ses).toBeInstanceOf(SesSender);
    expect(ses.channel).toBe('email');
  });
});

describe('what the senders log', () => {
  const store = { writeOutbox: async () => undefined } as unknown as ReminderStore;
  const logged = async (send: () => Promise<unknown>) => {
    const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) => vi.spyOn(logger, level).mockImplementation(() => undefined));
    try {
      await send();
      return JSON.stringify(spies.flatMap((spy) => spy.mock.calls));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  };

  it('a local run prints the rendered subject and text of each outbox notice (never the address or member id)', async () => {
    const sender = await notificationSenderFromEnv(store, {});
    const out = await logged(() => sender.send(message));
    expect(out).toContain(message.subject);
    expect(out).toContain(message.text);
    expect(out).not.toContain(message.to!);
    expect(out).not.toContain('"m1"');
  });

  it('inside Lambda the outbox logs kind and member hash only, and SES logs nothing of the message', async () => {
    const lambdaOutbox = await notificationSenderFromEnv(store, { AWS_LAMBDA_FUNCTION_NAME: 'reminders', NOTIFICATIONS_CHANNEL: 'outbox' });
    const out = await logged(() => lambdaOutbox.send(message));
    expect(out).toContain('renewal_upcoming');
    expect(out).not.toContain(message.subject);
    expect(out).not.toContain(message.text);
    const { client } = fakeSes();
    const ses = await logged(() => new SesSender(client, 'notices@shop.example').send(message));
    for (const part of [message.subject, message.text, message.to!]) expect(ses).not.toContain(part);
  });
});
