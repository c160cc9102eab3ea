#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MembershipStack, stackSettingsFromContext } from './membership-stack';

const app = new App();
new MembershipStack(app, 'MembershipBackend', {
  ...stackSettingsFromContext(app),
  description: 'Paid-membership backend: Stripe webhooks, entitlements, benefits, reminders, finance',
});
// cdk-nag's AWS Solutions pack runs on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
