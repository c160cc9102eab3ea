/**
 * A local stand-in for the two AWS APIs the bundled functions call besides DynamoDB: Secrets Manager
 * `GetSecretValue` (JSON 1.1 protocol, `X-Amz-Target`) and SES v2 `SendEmail` (REST JSON). The bundle
 * smoke test points the SDK at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SESV2`, so
 * the bundles read their secrets and send mail through the very code paths they use in Lambda.
 */
import { createServer, type Server } from 'node:http';

export interface AwsStandIn {
  url: string;
  /** Every call, in order: `secretsmanager.GetSecretValue <arn>` or `sesv2.SendEmail`. */
  calls: Array<{ api: string; body: any }>;
  close: () => Promise<void>;
}

export async function startAwsStandIn(secrets: Record<string, { name: string; value: string }>): Promise<AwsStandIn> {
  const calls: AwsStandIn['calls'] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : {};
      const target = String(req.headers['x-amz-target'] ?? '');
      const answer = (status: number, payload: unknown, type = 'application/x-amz-json-1.1') => {
        res.writeHead(status, { 'content-type': type });
        res.end(JSON.stringify(payload));
      };
      if (target === 'secretsmanager.GetSecretValue') {
        calls.push({ api: `secretsmanager.GetSecretValue ${body.SecretId}`, body });
        const secret = secrets[body.SecretId];
        if (!secret)
          return answer(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' });
        return answer(200, {
          ARN: body.SecretId,
          Name: secret.name,
          SecretString: secret.value,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        });
      }
      if (req.method === 'POST' && req.url === '/v2/email/outbound-emails') {
        calls.push({ api: 'sesv2.SendEmail', body });
        return answer(200, { MessageId: `smoke-${calls.length}` }, 'application/json');
      }
      calls.push({ api: `unknown ${req.method} ${req.url} ${target}`, body });
      answer(400, { __type: 'UnknownOperationException', message: 'not in the stand-in' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
