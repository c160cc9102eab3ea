import type { TestProject } from 'vitest/node';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { ensureTables } from '#shared/storage/tables';
import { type EmbeddedDynamo, freePort, startEmbeddedDynamo } from '../../local/dynamodb-local';
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
  return async () => {
    await dynamo?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
