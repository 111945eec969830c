import { RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { assertLayerDir } from './layer-dir.ts';
import { DEFAULT_LAYER_DIR, DEFAULT_UNIVERSAL_LAYER_DIRS } from './paths.ts';
import { LAYER_RUNTIMES } from './runtime-support.ts';

/** Props of {@link LifelineLayer}. */
export interface LifelineLayerProps {
  /**
   * Directory holding the built layer (`extensions/lifeline` + `lifeline/index.mjs`).
   * @default `extension/dist/layer` of this repository (run `npm run build -w @lifeline/extension` first)
   */
  readonly layerDir?: string;
  /**
   * Directories holding the built universal layers (`extensions/lifeline`, `lifeline/lifeline-standalone`), one per
   * architecture, for functions on every other runtime; `false` publishes none.
   * @default `extension/dist/layer-universal-<arch>` of this repository when `layerDir` is not given, else none
   */
  readonly universalLayerDirs?: Readonly<Record<UniversalArchitecture, string>> | false;
  /** Name of the layer; the universal layers get `<name>-universal-<arch>`. @default 'lifeline' */
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

/** The architectures a universal layer is built for, as Lambda names them. */
export type UniversalArchitecture = 'x86_64' | 'arm64';

/** The Lambda architecture of each universal layer. */
export const UNIVERSAL_ARCHITECTURES: Readonly<Record<UniversalArchitecture, Architecture>> = {
  x86_64: Architecture.X86_64,
  arm64: Architecture.ARM_64,
};

/**
 * The Lifeline extension as Lambda layers: the JS layer for Lambda's Node.js runtimes on x86_64 and arm64, and one
 * universal layer per architecture (a self-contained executable) for every other runtime.
 *
 * The layer directories are packaged as they are (no bundling, no Docker); they must already be built.
 *
 * @example
 * const layer = new LifelineLayer(stack, 'LifelineLayer');
 * new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, layers: [layer.layer], ... });
 */
export class LifelineLayer extends Construct {
  /** The published JS layer version (Node.js runtimes). */
  readonly layer: LayerVersion;
  /** The JS layer version's ARN (with its version number). */
  readonly layerVersionArn: string;
  /** The published universal layer of each architecture, unless `universalLayerDirs` is `false`. */
  readonly universalLayers?: Readonly<Record<UniversalArchitecture, LayerVersion>>;

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

    const universalDirs =
      props.universalLayerDirs ??
      (props.layerDir === undefined ? DEFAULT_UNIVERSAL_LAYER_DIRS : false);
    if (universalDirs !== false) {
      const build = (arch: UniversalArchitecture): LayerVersion => {
        assertLayerDir(universalDirs[arch]);
        return new LayerVersion(this, `Universal-${arch}`, {
          code: Code.fromAsset(universalDirs[arch]),
          layerVersionName: `${props.layerVersionName ?? 'lifeline'}-universal-${arch}`,
          description: `Lifeline: records the life and death of each Lambda execution environment (self-contained external extension, any runtime on Amazon Linux 2023, ${arch})`,
          compatibleArchitectures: [UNIVERSAL_ARCHITECTURES[arch]],
          license: props.license ?? 'MIT',
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        });
      };
      this.universalLayers = { x86_64: build('x86_64'), arm64: build('arm64') };
    }
  }
}
