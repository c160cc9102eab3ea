export const TEST_TABLES = { main: 'membership-test', idempotency: 'membership-idempotency-test' };
