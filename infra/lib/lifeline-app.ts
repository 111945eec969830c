import type { App, Environment } from 'aws-cdk-lib';
import type { CollectorServiceProps } from './collector-service.ts';
import { CollectorStack } from './collector-stack.ts';
import { DemoStack } from './demo-stack.ts';
import { LayerStack } from './layer-stack.ts';
import { LifelineToken } from './lifeline-token.ts';

/** Stack names, as `cdk deploy <name>` takes them. */
export const STACK_NAMES = {
  collector: 'LifelineCollector',
  demo: 'LifelineDemo',
  layer: 'LifelineLayer',
} as const;

/** Props of {@link addLifelineStacks}. */
export interface LifelineAppProps {
  /** @default environment-agnostic */
  readonly env?: Environment;
  readonly collector?: CollectorServiceProps;
  /** ARN of an ACM certificate: the collector is then served over HTTPS by a load balancer. */
  readonly certificateArn?: string;
  /** @default `extension/dist/layer` of this repository */
  readonly layerDir?: string;
  /** Share the standalone layer with these accounts (`'*'` for all). @default not shared */
  readonly shareLayerWith?: string;
  /** Schedule the demo functions. @default true */
  readonly demoScheduled?: boolean;
}

/** The stacks of the Lifeline CDK app. */
export interface LifelineStacks {
  readonly collector: CollectorStack;
  readonly demo: DemoStack;
  readonly layer: LayerStack;
}

/**
 * Adds the Lifeline stacks to an app: the collector, the demo functions pointed at it (token by dynamic reference to
 * the collector's generated secret), and the standalone layer.
 */
export function addLifelineStacks(app: App, props: LifelineAppProps = {}): LifelineStacks {
  const collector = new CollectorStack(app, STACK_NAMES.collector, {
    env: props.env,
    description: 'Lifeline collector: EC2 + EBS (SQLite), token in Secrets Manager',
    collector: props.collector,
    certificateArn: props.certificateArn,
  });
  const demo = new DemoStack(app, STACK_NAMES.demo, {
    env: props.env,
    description: 'Lifeline demo: functions that live, time out and crash, with Lifeline attached',
    collectorUrl: collector.collector.collectorUrl,
    token: LifelineToken.fromSecret(collector.collector.tokenSecret),
    layerDir: props.layerDir,
    scheduled: props.demoScheduled,
  });
  const layer = new LayerStack(app, STACK_NAMES.layer, {
    env: props.env,
    description: 'Lifeline extension layer (Node.js runtimes, x86_64 and arm64)',
    layerDir: props.layerDir,
    shareWith: props.shareLayerWith,
  });
  return { collector, demo, layer };
}
