import { Token } from 'aws-cdk-lib';
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';

/** The Node.js runtimes the layer declares: its launcher runs the extension with the runtime's own `node`. */
export const LAYER_RUNTIMES: readonly Runtime[] = [
  Runtime.NODEJS_20_X,
  Runtime.NODEJS_22_X,
  Runtime.NODEJS_24_X,
];

/** The oldest Node.js major the extension bundle supports. */
const MIN_NODE_MAJOR = 20;

/** Whether the layer can serve a runtime, and if not, why (a sentence for a synth-time warning). */
export type RuntimeSupport = { supported: true } | { supported: false; reason: string };

/**
 * Decides whether the Lifeline extension can run next to a function on `runtime`.
 *
 * The extension is JavaScript started by `#!/usr/bin/env node`, so it needs the `node` that only Lambda's Node.js
 * runtimes ship. Node.js runtimes newer than the layer's declared list are accepted (Lambda does not enforce a layer's
 * compatible runtimes), and so is a Node.js runtime whose name is only known at deploy time (NodejsFunction's default
 * picks the latest Node.js runtime per region).
 */
export function layerSupportsRuntime(runtime: Runtime): RuntimeSupport {
  if (runtime.name === Runtime.FROM_IMAGE.name) {
    return {
      supported: false,
      reason:
        'container image functions cannot use layers; copy the Lifeline layer into the image under /opt instead',
    };
  }
  if (runtime.family !== RuntimeFamily.NODEJS) {
    return {
      supported: false,
      reason: `runtime ${runtime.name} has no Node.js, which the Lifeline extension needs to run`,
    };
  }
  if (Token.isUnresolved(runtime.name)) return { supported: true };
  const major = /^nodejs(\d+)\./.exec(runtime.name)?.[1];
  if (major === undefined || Number(major) < MIN_NODE_MAJOR) {
    return {
      supported: false,
      reason: `runtime ${runtime.name} is older than nodejs${MIN_NODE_MAJOR}.x, the oldest Node.js the Lifeline extension supports`,
    };
  }
  return { supported: true };
}
