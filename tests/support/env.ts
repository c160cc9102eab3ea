import { inject } from 'vitest';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { recordDynamoGrants } from './iam-recorder';
import { TEST_TABLES } from './tables';

// Handlers read their configuration when their module loads, so it is settled before any test imports one.
process.env.DYNAMODB_ENDPOINT = inject('dynamodbEndpoint');
process.env.TABLE_NAME = TEST_TABLES.main;
process.env.IDEMPOTENCY_TABLE_NAME = TEST_TABLES.idempotency;
process.env.STRIPE_WEBHOOK_SECRET = LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET;
process.env.SERVICE_API_KEYS = LOCAL_DEFAULTS.SERVICE_API_KEYS;
process.env.SHOPPER_JWT_SECRET = LOCAL_DEFAULTS.SHOPPER_JWT_SECRET;
process.env.SHOPPER_JWT_ISSUER = LOCAL_DEFAULTS.SHOPPER_JWT_ISSUER;
process.env.SHOPPER_JWT_AUDIENCE = LOCAL_DEFAULTS.SHOPPER_JWT_AUDIENCE;
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
delete process.env.STRIPE_SECRET_KEY;

recordDynamoGrants(inject('iamLogDir'));
