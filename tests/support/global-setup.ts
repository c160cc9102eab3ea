import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { ensureTables } from '#shared/storage/tables';
import { type EmbeddedDynamo, freePort, startEmbeddedDynamo } from '../../local/dynamodb-local';
import { ungrantedCalls } from './iam-recorder';
import { TEST_TABLES } from './tables';

let dynamo: EmbeddedDynamo | undefined;

export default async function setup(project: TestProject) {
  console.log(`tests run on Node ${process.version}`);
  if (!process.env.TEST_DYNAMODB_ENDPOINT) dynamo = await startEmbeddedDynamo({ port: await freePort() });
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT ?? dynamo!.endpoint;
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: endpoint });
  await ensureTables(client, TEST_TABLES);
  client.destroy();
  project.provide('dynamodbEndpoint', endpoint);
  const iamLog = mkdtempSync(join(tmpdir(), 'iam-calls-'));
  project.provide('iamLogDir', iamLog);
  return async () => {
    await dynamo?.stop();
    // Only a full run has seen every function; a single file's run checks what it saw.
    const { checked, missing } = ungrantedCalls(iamLog);
    rmSync(iamLog, { recursive: true, force: true });
    if (missing.length) {
      throw new Error(
        `DynamoDB calls that the function's IAM grants (functions/manifest.ts access) would refuse in AWS, of ${checked} checked:\n  ${missing.join('\n  ')}`,
      );
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    /** Where the workers write the DynamoDB calls each function made (tests/support/iam-recorder.ts). */
    iamLogDir: string;
  }
}
