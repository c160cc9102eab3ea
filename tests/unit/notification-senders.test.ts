import { describe, expect, it } from 'vitest';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { BadRequestException, MessageRejected, NotFoundException, SendingPausedException, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { notificationSenderFromEnv, OutboxSender, SenderUnavailableError, SesSender, UndeliverableError, type OutgoingMessage } from '../../shared/notifications/senders';
import type { ReminderStore } from '../../shared/storage/reminder-store';

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
  const client = { send: async (command: { input: unknown }) => (inputs.push(command.input), { MessageId: 'ses-message-1' }) } as unknown as SESv2Client;
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
    expect(inputs[0].Content.Template).toEqual({ TemplateName: 'membership-notice', TemplateData: JSON.stringify({ subject: message.subject, text: message.text }) });
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
      new MessageRejected({ message: 'Email address is not verified. The following identities failed the check: member@example.com', ...meta }),
      new BadRequestException({ message: 'Missing final @domain: member@', ...meta }),
    ]) {
      const failure = await new SesSender(failingWith(error), 'notices@shop.example').send(message).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UndeliverableError);
      expect((failure as UndeliverableError).reason).toBe(error.name);
      expect(String((failure as Error).message)).not.toContain('member@');
    }
  });

  it('sending paused or missing configuration makes the sender unavailable; throttling stays a retryable error', async () => {
    for (const error of [new SendingPausedException({ message: 'paused', ...meta }), new NotFoundException({ message: 'Template x does not exist', ...meta })]) {
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
    expect(await notificationSenderFromEnv(store, { SES_FROM_ADDRESS: 'a@b.example', NOTIFICATIONS_CHANNEL: 'outbox' })).toBeInstanceOf(OutboxSender);
    const ses = await notificationSenderFromEnv(store, { SES_FROM_ADDRESS: 'a@b.example', AWS_REGION: 'eu-west-1' });
    expect(ses).toBeInstanceOf(SesSender);
    expect(ses.channel).toBe('email');
  });
});
