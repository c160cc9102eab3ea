/**
 * One synthesis of the whole stack, bundles and cdk-nag included, shared by every test of the infra
 * project (it runs its files in one worker without isolation, vitest.config.ts): the CDK assertions
 * read its template, the bundle smoke test runs its assets. Synthesis is the slowest thing the test
 * suite does; doing it once keeps `npm test` within its budget.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MembershipStack } from '../../infra/membership-stack';
import type { MembershipStackSettings } from '../../infra/settings';

/** A production stage as an operator would configure it: no example hosts, an alarm address. */
export const PRODUCTION: MembershipStackSettings = {
  stage: 'prod',
  production: true,
  shopperJwtIssuer: 'https://login.acme-retail.net/',
  shopperJwtAudience: 'membership-test',
  reminders: {
    sesFromAddress: 'noreply@acme-retail.net',
    sesIdentityDomain: '',
    portalUrl: 'https://www.acme-retail.net/account/membership',
    marketingPreferencesUrl: 'https://www.acme-retail.net/account/email',
    winBackCouponCents: 1500,
    winBackCouponDays: 21,
    sesMaxSendRate: 14,
  },
  alarmEmail: 'oncall@acme-retail.net',
  shopOrigins: ['https://www.acme-retail.net'],
  reserveConcurrency: true,
  checkoutP99Ms: 300,
  logRetention: logs.RetentionDays.ONE_MONTH,
};

export interface Synthesized {
  stack: MembershipStack;
  template: Template;
  outdir: string;
}

let synthesized: Synthesized | undefined;

export function synthesize(): Synthesized {
  if (synthesized) return synthesized;
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  const app = new App({ outdir });
  const stack = new MembershipStack(app, 'TestStack', { ...PRODUCTION, env: { account: '123456789012', region: 'eu-west-1' } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // esbuild for every function, one after another, and cdk-nag; an unacknowledged finding throws here.
  app.synth();
  synthesized = { stack, template: Template.fromStack(stack), outdir };
  return synthesized;
}

/** Tests that only read a template: bundling skipped (no esbuild), seconds instead of a minute. */
export function templateOnly(settings: Partial<MembershipStackSettings>, id = 'Bare'): { stack: MembershipStack; template: Template } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-bare-')), context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MembershipStack(app, id, { ...PRODUCTION, ...settings, env: { account: '123456789012', region: 'eu-west-1' } });
  return { stack, template: Template.fromStack(stack) };
}
