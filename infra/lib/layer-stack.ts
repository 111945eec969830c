import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnLayerVersionPermission } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { LifelineLayer } from './lifeline-layer.ts';

/** Props of {@link LayerStack}. */
export interface LayerStackProps extends StackProps {
  /** @default `extension/dist/layer` of this repository */
  readonly layerDir?: string;
  /**
   * Accounts allowed to use the layer version besides this one, or `'*'` for everyone
   * (or an organization, with `organizationId`). @default none
   */
  readonly shareWith?: string;
  /** With `shareWith: '*'`, share with this AWS Organization only. */
  readonly organizationId?: string;
}

/**
 * Publishes the Lifeline layers on their own, for functions not managed by this CDK app (console, SAM, Serverless):
 * the JS layer and, when built from this repository, the universal layer of each architecture.
 */
export class LayerStack extends Stack {
  /** The published layer. */
  readonly lifelineLayer: LifelineLayer;

  constructor(scope: Construct, id: string, props: LayerStackProps = {}) {
    super(scope, id, props);
    if (props.organizationId !== undefined && props.shareWith !== '*') {
      throw new Error(
        "LayerStack's organizationId only applies when shareWith is '*' (everyone in that organization).",
      );
    }
    this.lifelineLayer = new LifelineLayer(this, 'Lifeline', { layerDir: props.layerDir });
    const universal = this.lifelineLayer.universalLayers;
    const published: [string, string][] = [
      ['', this.lifelineLayer.layerVersionArn],
      ...(universal === undefined
        ? []
        : ([
            ['UniversalX8664', universal.x86_64.layerVersionArn],
            ['UniversalArm64', universal.arm64.layerVersionArn],
          ] as [string, string][])),
    ];
    if (props.shareWith !== undefined) {
      for (const [id, layerVersionArn] of published) {
        new CfnLayerVersionPermission(this, `Share${id}`, {
          action: 'lambda:GetLayerVersion',
          layerVersionArn,
          principal: props.shareWith,
          organizationId: props.organizationId,
        });
      }
    }
    new CfnOutput(this, 'LayerVersionArn', {
      description:
        'Add this layer to a Node.js function, then set LIFELINE_COLLECTOR_URL and LIFELINE_TOKEN',
      value: this.lifelineLayer.layerVersionArn,
    });
    if (universal !== undefined) {
      new CfnOutput(this, 'UniversalLayerVersionArnX8664', {
        description:
          'Add this layer to an x86_64 function on any other runtime (Python, Java, .NET, Ruby, provided.al2023), then set LIFELINE_COLLECTOR_URL and LIFELINE_TOKEN',
        value: universal.x86_64.layerVersionArn,
      });
      new CfnOutput(this, 'UniversalLayerVersionArnArm64', {
        description:
          'Add this layer to an arm64 function on any other runtime (Python, Java, .NET, Ruby, provided.al2023), then set LIFELINE_COLLECTOR_URL and LIFELINE_TOKEN',
        value: universal.arm64.layerVersionArn,
      });
    }
  }
}
