#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MembershipStack } from './membership-stack';
import { stackIdOf, stackSettingsFromContext } from './settings';

const app = new App();
// `-c stage=<name>` picks the stage; its settings are checked here, before anything is bundled.
const { env, ...settings } = stackSettingsFromContext(app);
new MembershipStack(app, stackIdOf(settings.stage), {
  ...settings,
  env,
  description: `Paid-membership backend (${settings.stage}): Stripe webhooks, entitlements, benefits, reminders, finance`,
});
// cdk-nag's AWS Solutions pack runs on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
