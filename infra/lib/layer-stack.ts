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

/** Publishes the Lifeline layer on its own, for functions not managed by this CDK app (console, SAM, Serverless). */
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
    if (props.shareWith !== undefined) {
      new CfnLayerVersionPermission(this, 'Share', {
        action: 'lambda:GetLayerVersion',
        layerVersionArn: this.lifelineLayer.layerVersionArn,
        principal: props.shareWith,
        organizationId: props.organizationId,
      });
    }
    new CfnOutput(this, 'LayerVersionArn', {
      description:
        'Add this layer to a Node.js function, then set LIFELINE_COLLECTOR_URL and LIFELINE_TOKEN',
      value: this.lifelineLayer.layerVersionArn,
    });
  }
}
