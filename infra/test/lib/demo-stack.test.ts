import { type App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BEHAVIOURS, DemoStack } from '../../lib/demo-stack.ts';
import { LifelineToken } from '../../lib/lifeline-token.ts';
import { fixtureLayer, removeTempDirs, testApp } from '../helpers/temp.ts';
import { envOf, onlyLogicalId, resourceByPrefix } from '../helpers/template.ts';

afterAll(removeTempDirs);

describe('DemoStack', () => {
  let template: Template;
  let layerId: string;

  beforeAll(() => {
    const app: App = testApp();
    const stack = new DemoStack(app, 'Demo', {
      collectorUrl: 'https://collector.example.com',
      token: LifelineToken.fromText('demo'),
      layerDir: fixtureLayer(),
      interval: Duration.minutes(5),
    });
    template = Template.fromStack(stack);
    layerId = onlyLogicalId(template, 'AWS::Lambda::LayerVersion');
  });

  it('has one function per behaviour plus the driver, all with Lifeline attached', () => {
    template.resourceCountIs('AWS::Lambda::Function', Object.keys(DEMO_BEHAVIOURS).length + 1);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties?.Layers).toEqual([{ Ref: layerId }]);
      expect(fn.Properties?.Environment?.Variables).toMatchObject({
        LIFELINE_COLLECTOR_URL: 'https://collector.example.com',
        LIFELINE_TOKEN: 'demo',
      });
    }
  });

  it.each(Object.entries(DEMO_BEHAVIOURS))('runs %s with its timeout', (behaviour, { timeout }) => {
    const id = `Demo${behaviour.replace('-', '')}`;
    const fn = resourceByPrefix(template, 'AWS::Lambda::Function', id);
    expect(envOf(fn).DEMO_BEHAVIOUR).toBe(behaviour);
    expect(fn.Properties?.Timeout).toBe(timeout.toSeconds());
    expect(fn.Properties?.Runtime).toBe('nodejs22.x');
  });

  it('turns off async retries so each invoke is one attempt', () => {
    const configs = template.findResources('AWS::Lambda::EventInvokeConfig');
    expect(Object.keys(configs)).toHaveLength(Object.keys(DEMO_BEHAVIOURS).length + 1);
    for (const config of Object.values(configs)) {
      expect(config.Properties?.MaximumRetryAttempts).toBe(0);
    }
  });

  it('drives the functions on a schedule through the driver', () => {
    const driverId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('Driver'),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [driverId, 'Arn'] } })],
    });
    const targets = JSON.stringify(
      envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Driver')).DEMO_TARGETS,
    );
    for (const behaviour of Object.keys(DEMO_BEHAVIOURS)) {
      const id = onlyFunctionId(template, `Demo${behaviour.replace('-', '')}`);
      expect(targets).toContain(`{"Ref":"${id}"}`);
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'lambda:InvokeFunction',
              Resource: Match.arrayWith([{ 'Fn::GetAtt': [id, 'Arn'] }]),
            }),
          ]),
        },
      });
    }
  });
});

function onlyFunctionId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
    id.startsWith(prefix),
  );
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('DemoStack schedule', () => {
  it('keeps the rule but disables it when scheduled is false', () => {
    const stack = new DemoStack(testApp(), 'Paused', {
      collectorUrl: 'https://collector.example.com',
      token: LifelineToken.fromText('demo'),
      layerDir: fixtureLayer(),
      scheduled: false,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 minutes)',
      State: 'DISABLED',
    });
  });
});
