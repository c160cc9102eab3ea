import type { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';

/**
 * One write of a DynamoDB transaction. Item modules build these so their writes can commit together
 * with a membership change or a ledger entry; kept apart from the repositories so an item module and
 * a repository that reads its items do not import each other.
 */
export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];
