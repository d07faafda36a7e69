/**
 * Builds the CDK app the way `npx cdk synth` does (bin/app.ts, cdk.json's context or a replacement),
 * without bundling the handlers, and helps find one account's resources in the template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../bin/app';
import type { OpsPipelineStack } from '../../lib/ops-pipeline-stack';
import type { AccountPipeline } from '../../lib/account-pipeline';

/** The context in cdk.json, as the CLI passes it. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

export interface Synthesized {
  readonly app: App;
  readonly stack: OpsPipelineStack;
  readonly template: Template;
}

/**
 * Synthesizes with `overrides` over cdk.json's context, as `-c key=value` does: `-c` values arrive as
 * strings, so pass `accounts` as a JSON string to exercise that path.
 */
export function synthesize(overrides: Record<string, unknown> = {}): Synthesized {
  const { app, stack } = build(overrides);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Like {@link synthesize}, but stops before synthesis, so the test can add to the tree or synth itself. */
export function build(overrides: Record<string, unknown> = {}): { app: App; stack: OpsPipelineStack } {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...overrides, 'aws:cdk:bundling-stacks': [] },
  });
  return { app, stack: buildApp(app) };
}

/** The pipeline of account `name`, failing loudly if the stack has none. */
export function pipelineOf(stack: OpsPipelineStack, name: string): AccountPipeline {
  const pipeline = stack.pipelines.get(name);
  if (!pipeline)
    throw new Error(`no pipeline for account "${name}" in ${[...stack.pipelines.keys()].join(', ')}`);
  return pipeline;
}

/** The logical ID of an L2 construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** `{ 'Fn::GetAtt': [<construct>, 'Arn'] }`, the way the template references its ARN. */
export function arnOf(construct: IConstruct): unknown {
  return { 'Fn::GetAtt': [logicalId(construct), 'Arn'] };
}

interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every inline policy attached to the role with logical ID `roleId`. */
export function statementsOfRole(template: Template, roleId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** A statement's actions, always as a list. */
export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Environment variables of the function with logical ID `functionId`. */
export function environmentOf(template: Template, functionId: string): Record<string, unknown> {
  const fn = template.toJSON().Resources[functionId];
  if (!fn) throw new Error(`no resource ${functionId}`);
  return fn.Properties.Environment.Variables;
}
