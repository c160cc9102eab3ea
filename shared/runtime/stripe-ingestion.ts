/**
 * The one way a Stripe event is ingested, by the webhook and by the stripe-sync job's replay alike:
 * the same use case behind the same Powertools idempotency record. The record's key has a fixed
 * prefix (`stripe-event`) instead of Powertools' default, the function's name, so an event the job
 * replayed is a duplicate for the webhook and the other way round. The record saves work; what makes
 * effects exactly-once is the membership's order-safe state machine and the ledger's conditional
 * writes (docs/decisions.md).
 */
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { DriftSource } from '../domain/drift';
import type { TableNames } from '../storage/dynamodb';
import { GiftStore } from '../storage/gifts';
import { HouseholdStore } from '../storage/households';
import { DynamoMembershipRepository } from '../storage/membership-repository';
import { StripeSyncStore } from '../storage/stripe-sync-store';
import type { StripeEvent } from '../stripe/events';
import { recordGiftPayment } from '../usecases/gift-payments';
import { type IngestDeps, type IngestOutcome, ingestStripeEvent } from '../usecases/ingest-stripe-event';
import { membershipReactions } from '../usecases/reactions';
import { planCatalog } from './catalog';
import { dynamo } from './dynamo';
import { projectingLedger } from './finance';
import { jurisdictionRules } from './jurisdictions';

/** The idempotency record's key prefix: the same for every function that ingests events. */
export const STRIPE_EVENT_IDEMPOTENCY_PREFIX = 'stripe-event';
/**
 * How long the record says "done": Stripe keeps events for 30 days and the job may replay any of
 * them, so an event either path processed is a duplicate for the other as long as Stripe can send it.
 */
export const STRIPE_EVENT_RECORD_SECONDS = 31 * 24 * 3600;

// A delivery that races another delivery of the same event waits for its outcome (a few hundred
// milliseconds normally) and answers like a duplicate; past this it asks to come back later.
const IN_PROGRESS_WAIT_MS = 5_000;
const IN_PROGRESS_POLL_MS = 100;

export interface IngestedEvent {
  result: IngestOutcome;
  /** Whether an earlier ingestion (webhook or replay) had completed it: nothing ran this time. */
  duplicate: boolean;
}

export interface StripeEventIngestion {
  /**
   * Ingests the event once per event id. Throws `IdempotencyAlreadyInProgressError` when another
   * ingestion of it is still running after a 5-second wait.
   */
  ingest(event: StripeEvent): Promise<IngestedEvent>;
  /** Lets an in-progress record expire with this invocation, should it die mid-event. */
  registerContext(context: Pick<Context, 'getRemainingTimeInMillis'>): void;
  /** The use case's dependencies, for what is applied without an event id of Stripe's (the sweep's repairs). */
  deps: IngestDeps;
}

export function stripeEventIngestion(options: {
  source: DriftSource;
  /** Defaults to this container's DynamoDB clients and tables (benchmarks pass others). */
  dynamo?: { client: DynamoDBClient; doc: DynamoDBDocumentClient; tables: TableNames };
}): StripeEventIngestion {
  const { client, doc, tables } = options.dynamo ?? dynamo();
  const deps: IngestDeps = {
    catalog: planCatalog(),
    memberships: new DynamoMembershipRepository(doc, client, tables.main),
    reactions: membershipReactions(tables.main, jurisdictionRules()),
    // Money events are projected into the finance rollups in the same request (docs/decisions.md, "Rollups").
    ledger: projectingLedger({ doc, tables }),
    findings: new StripeSyncStore(doc, tables.main),
    source: options.source,
    households: new HouseholdStore(doc, tables.main),
    gifts: { recordPayment: (payment, now) => recordGiftPayment({ gifts: new GiftStore(doc, tables.main) }, payment, now) },
  };
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    expiresAfterSeconds: STRIPE_EVENT_RECORD_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  // The second argument is not hashed (dataIndexArgument 0): it tells whether the function ran.
  const once = makeIdempotent(
    async (event: StripeEvent, ran: { value: boolean }) => {
      ran.value = true;
      return ingestStripeEvent(deps, event);
    },
    {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: tables.idempotency, awsSdkV3Client: client }),
      config,
      keyPrefix: STRIPE_EVENT_IDEMPOTENCY_PREFIX,
      dataIndexArgument: 0,
    },
  );

  return {
    deps,
    registerContext: (context) => config.registerLambdaContext(context as Context),
    async ingest(event) {
      const deadline = Date.now() + IN_PROGRESS_WAIT_MS;
      for (;;) {
        const ran = { value: false };
        try {
          const result = await once(event, ran);
          return { result, duplicate: !ran.value };
        } catch (error) {
          if (!(error instanceof IdempotencyAlreadyInProgressError) || Date.now() >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_POLL_MS));
        }
      }
    },
  };
}
