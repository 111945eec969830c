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

/**
 * Runtimes on Amazon Linux 2 or older: glibc 2.26 or less, where the universal layer's executable (Node.js 24, glibc
 * 2.28) cannot start (its launcher would fall back to answering Lambda and recording nothing). Every newer runtime,
 * and every future one, runs on Amazon Linux 2023.
 */
const OLD_OS_RUNTIMES =
  /^(provided|provided\.al2|go1\.x|java8(\.al2)?|java11|java17|python2\.7|python3\.([6-9]|10|11)|ruby2\.\d|ruby3\.2|dotnet6|dotnetcore\d\.\d)$/;

/** Which Lifeline layer a function gets. */
export type LayerChoice =
  | { layer: 'js' }
  | { layer: 'universal' }
  | { layer: 'none'; reason: string; image: boolean };

/**
 * Picks the layer for a function: the JS layer for Lambda's Node.js runtimes (20 and later: the runtime's own `node`
 * runs it), the universal layer (a self-contained executable) for every other runtime on Amazon Linux 2023, nothing
 * for container images (they take no layers) and for runtimes on Amazon Linux 2 (glibc too old for the executable).
 */
export function chooseLayer(runtime: Runtime): LayerChoice {
  if (runtime.name === Runtime.FROM_IMAGE.name) {
    return { layer: 'none', image: true, reason: 'container image functions cannot use layers' };
  }
  if (runtime.family === RuntimeFamily.NODEJS) {
    const support = layerSupportsRuntime(runtime);
    return support.supported
      ? { layer: 'js' }
      : { layer: 'none', image: false, reason: support.reason };
  }
  if (!Token.isUnresolved(runtime.name) && OLD_OS_RUNTIMES.test(runtime.name)) {
    return {
      layer: 'none',
      image: false,
      reason: `runtime ${runtime.name} runs on Amazon Linux 2 or older, whose glibc (2.26) is too old for the Lifeline executable (Node.js 24 needs 2.28); move to a runtime on Amazon Linux 2023`,
    };
  }
  return { layer: 'universal' };
}
