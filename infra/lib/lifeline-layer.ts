import { RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { assertLayerDir } from './layer-dir.ts';
import { DEFAULT_LAYER_DIR } from './paths.ts';
import { LAYER_RUNTIMES } from './runtime-support.ts';

/** Props of {@link LifelineLayer}. */
export interface LifelineLayerProps {
  /**
   * Directory holding the built layer (`extensions/lifeline` + `lifeline/index.mjs`).
   * @default `extension/dist/layer` of this repository (run `npm run build -w @lifeline/extension` first)
   */
  readonly layerDir?: string;
  /** Name of the layer. @default 'lifeline' */
  readonly layerVersionName?: string;
  /** Description of the layer. @default a sentence naming Lifeline and its purpose */
  readonly description?: string;
  /** SPDX identifier shown on the layer. @default 'MIT' */
  readonly license?: string;
  /**
   * Keep old layer versions when a new one replaces them, so functions still pinned to them keep working.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The Lifeline extension as a Lambda layer, for Lambda's Node.js runtimes on x86_64 and arm64.
 *
 * The layer directory is packaged as it is (no bundling, no Docker); it must already be built.
 *
 * @example
 * const layer = new LifelineLayer(stack, 'LifelineLayer');
 * new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, layers: [layer.layer], ... });
 */
export class LifelineLayer extends Construct {
  /** The published layer version. */
  readonly layer: LayerVersion;
  /** The layer version's ARN (with its version number). */
  readonly layerVersionArn: string;

  constructor(scope: Construct, id: string, props: LifelineLayerProps = {}) {
    super(scope, id);
    const layerDir = props.layerDir ?? DEFAULT_LAYER_DIR;
    assertLayerDir(layerDir);
    this.layer = new LayerVersion(this, 'Layer', {
      code: Code.fromAsset(layerDir),
      layerVersionName: props.layerVersionName ?? 'lifeline',
      description:
        props.description ??
        'Lifeline: records the life and death of each Lambda execution environment (Node.js external extension)',
      compatibleRuntimes: [...LAYER_RUNTIMES],
      compatibleArchitectures: [Architecture.X86_64, Architecture.ARM_64],
      license: props.license ?? 'MIT',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.layerVersionArn = this.layer.layerVersionArn;
  }
}
