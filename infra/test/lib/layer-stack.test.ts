import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerStack } from '../../lib/layer-stack.ts';
import { fixtureLayer, removeTempDirs, testApp } from '../helpers/temp.ts';
import { onlyLogicalId } from '../helpers/template.ts';

afterAll(removeTempDirs);

describe('LayerStack', () => {
  it('publishes the layer privately and outputs its version ARN', () => {
    const template = Template.fromStack(
      new LayerStack(testApp(), 'Private', { layerDir: fixtureLayer() }),
    );
    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 0);
    template.hasOutput('LayerVersionArn', {
      Value: { Ref: onlyLogicalId(template, 'AWS::Lambda::LayerVersion') },
    });
  });

  it('shares the layer version with an organization when asked', () => {
    const template = Template.fromStack(
      new LayerStack(testApp(), 'Shared', {
        layerDir: fixtureLayer(),
        shareWith: '*',
        organizationId: 'o-abc123',
      }),
    );
    template.hasResourceProperties('AWS::Lambda::LayerVersionPermission', {
      Action: 'lambda:GetLayerVersion',
      Principal: '*',
      OrganizationId: 'o-abc123',
      LayerVersionArn: { Ref: onlyLogicalId(template, 'AWS::Lambda::LayerVersion') },
    });
  });

  it('throws a sentence for an organization without sharing with everyone in it', () => {
    expect(
      () =>
        new LayerStack(testApp(), 'Bad', {
          layerDir: fixtureLayer(),
          shareWith: '123456789012',
          organizationId: 'o-abc123',
        }),
    ).toThrow(/organizationId only applies when shareWith is '\*'/);
  });
});
