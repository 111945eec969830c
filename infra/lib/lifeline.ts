import { Annotations, Aspects, type IAspect, Stack, Token } from 'aws-cdk-lib';
import {
  type ILayerVersion,
  Function as LambdaFunction,
  LayerVersion,
} from 'aws-cdk-lib/aws-lambda';
import { Construct, type IConstruct } from 'constructs';
import { LifelineLayer, type UniversalArchitecture } from './lifeline-layer.ts';
import type { LifelineToken, TokenBinding } from './lifeline-token.ts';
import { chooseLayer } from './runtime-support.ts';

/** Environment variable the extension reads the collector's base URL from. */
export const COLLECTOR_URL_ENV = 'LIFELINE_COLLECTOR_URL';
/** Environment variable for the extension's log level. */
export const LOG_LEVEL_ENV = 'LIFELINE_LOG_LEVEL';

/** Log levels the extension understands. */
export type LifelineLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Props of {@link Lifeline}. */
export interface LifelineProps {
  /** Base URL of the collector, e.g. `https://lifeline.example.com` (becomes `LIFELINE_COLLECTOR_URL`). */
  readonly collectorUrl: string;
  /** Where the ingest token comes from. */
  readonly token: LifelineToken;
  /**
   * Build a layer from this directory. Mutually exclusive with `layer` and `layerVersionArn`.
   * @default `extension/dist/layer` of this repository, when neither `layer` nor `layerVersionArn` is given
   */
  readonly layerDir?: string;
  /** Use an existing layer (e.g. a {@link LifelineLayer}'s `layer`). Mutually exclusive with `layerDir`, `layerVersionArn`. */
  readonly layer?: ILayerVersion;
  /** Use a published layer version by ARN. Mutually exclusive with `layerDir` and `layer`. */
  readonly layerVersionArn?: string;
  /**
   * Build the universal layers (functions on every runtime but Node.js) from these directories; `false`: none.
   * @default `extension/dist/layer-universal-<arch>` of this repository when no JS layer source is given, else none
   */
  readonly universalLayerDirs?: Readonly<Record<UniversalArchitecture, string>> | false;
  /** Use existing universal layers (e.g. a {@link LifelineLayer}'s `universalLayers`), per architecture. */
  readonly universalLayers?: Partial<Readonly<Record<UniversalArchitecture, ILayerVersion>>>;
  /** Use published universal layer versions by ARN, per architecture. */
  readonly universalLayerVersionArns?: Partial<Readonly<Record<UniversalArchitecture, string>>>;
  /**
   * The construct whose Lambda functions get Lifeline, nested stacks included.
   * @default the stack this construct is in
   */
  readonly scope?: IConstruct;
  /** Return false to leave a function alone. @default every function in scope */
  readonly filter?: (fn: LambdaFunction) => boolean;
  /** @default the extension's default (`warn`) */
  readonly logLevel?: LifelineLogLevel;
}

/**
 * Attaches Lifeline to every Lambda function in a scope: adds the JS layer to Node.js functions and the universal
 * layer of the function's architecture to every other runtime, sets `LIFELINE_COLLECTOR_URL` and the token, and grants
 * what the token needs. Functions Lifeline cannot serve (container images, runtimes on Amazon Linux 2) get a
 * synth-time warning saying why (for images: the Dockerfile lines to add) and are left unchanged.
 *
 * @example
 * new Lifeline(stack, 'Lifeline', {
 *   collectorUrl: 'https://lifeline.example.com',
 *   token: LifelineToken.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'lifeline/ingest-token')),
 * });
 */
export class Lifeline extends Construct {
  /** The JS layer, attached to Node.js functions. */
  readonly layer: ILayerVersion;
  /** The universal layers, attached to functions on other runtimes by architecture. */
  readonly universalLayers: Partial<Readonly<Record<UniversalArchitecture, ILayerVersion>>>;
  /** The aspect doing the attaching (already added to the scope). */
  readonly aspect: LifelineAspect;

  constructor(scope: Construct, id: string, props: LifelineProps) {
    super(scope, id);
    validateProps(props);

    const { layer, universal } = resolveLayers(this, props);
    this.layer = layer;
    this.universalLayers = universal;
    // Functions see the layers through imports without compatibleRuntimes, because the runtime check is ours:
    // addLayers() would reject Node.js runtimes that are only named at deploy time (NodejsFunction's default).
    const attachable = LayerVersion.fromLayerVersionArn(this, 'Attachable', layer.layerVersionArn);
    const attachableUniversal: Partial<Record<UniversalArchitecture, ILayerVersion>> = {};
    for (const [arch, universalLayer] of Object.entries(universal) as [
      UniversalArchitecture,
      ILayerVersion,
    ][]) {
      attachableUniversal[arch] = LayerVersion.fromLayerVersionArn(
        this,
        `AttachableUniversal-${arch}`,
        universalLayer.layerVersionArn,
      );
    }

    const token = props.token;
    const collectorUrl = Token.isUnresolved(props.collectorUrl)
      ? props.collectorUrl
      : props.collectorUrl.replace(/\/+$/, '');
    const environment: Record<string, string> = { [COLLECTOR_URL_ENV]: collectorUrl };
    if (props.logLevel !== undefined) environment[LOG_LEVEL_ENV] = props.logLevel;

    this.aspect = new LifelineAspect({
      layer: attachable,
      universalLayers: attachableUniversal,
      environment,
      token,
      filter: props.filter,
      onFirstBinding: (binding) => this.describeToken(binding),
    });
    Aspects.of(props.scope ?? Stack.of(this)).add(this.aspect);
  }

  private describeToken(binding: TokenBinding): void {
    if (binding.plainText) {
      Annotations.of(this).addWarningV2(
        'lifeline:plainTextToken',
        'The Lifeline token is in plain text in the template and in every function configuration; use LifelineToken.fromSecret() outside demos.',
      );
    }
  }
}

/** Props of {@link LifelineAspect}. */
export interface LifelineAspectProps {
  /** The JS layer, for Node.js functions. */
  readonly layer: ILayerVersion;
  /** The universal layer of each architecture, for functions on other runtimes; without one, they are skipped. */
  readonly universalLayers?: Partial<Readonly<Record<UniversalArchitecture, ILayerVersion>>>;
  /** Environment added to each function, besides the token's. */
  readonly environment: Readonly<Record<string, string>>;
  readonly token: LifelineToken;
  readonly filter?: (fn: LambdaFunction) => boolean;
  /** Called once, with the first function's token binding. */
  readonly onFirstBinding?: (binding: TokenBinding) => void;
}

/** Functions some Lifeline aspect already instrumented: a second one would add the layer twice. */
const instrumented = new WeakSet<LambdaFunction>();

/** The aspect behind {@link Lifeline}: visits every construct and instruments each supported `lambda.Function`. */
export class LifelineAspect implements IAspect {
  private readonly done = new WeakSet<LambdaFunction>();
  private bound = false;
  private readonly props: LifelineAspectProps;

  constructor(props: LifelineAspectProps) {
    this.props = props;
  }

  visit(node: IConstruct): void {
    if (!(node instanceof LambdaFunction) || this.done.has(node)) return;
    this.done.add(node);
    if (this.props.filter !== undefined && !this.props.filter(node)) return;

    if (instrumented.has(node)) {
      Annotations.of(node).addWarningV2(
        'lifeline:alreadyAttached',
        'Two Lifeline constructs cover this function; only the first one applies. Narrow one with scope or filter.',
      );
      return;
    }

    const layer = this.layerFor(node);
    if (layer === undefined) return;
    try {
      node.addLayers(layer);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      Annotations.of(node).addWarningV2(
        'lifeline:layerNotAdded',
        `Lifeline is not attached to this function: ${why}`,
      );
      return;
    }
    instrumented.add(node);
    const binding = this.props.token.bind(node);
    for (const [key, value] of Object.entries({
      ...this.props.environment,
      ...binding.environment,
    })) {
      node.addEnvironment(key, value);
    }
    binding.grant(node);
    if (!this.bound) {
      this.bound = true;
      this.props.onFirstBinding?.(binding);
    }
  }

  /** The layer `fn` gets, or undefined after a synth-time warning saying why it gets none. */
  private layerFor(fn: LambdaFunction): ILayerVersion | undefined {
    const props = this.props;
    const choice = chooseLayer(fn.runtime);
    const arch = fn.architecture.name as UniversalArchitecture;
    if (choice.layer === 'js') return props.layer;
    if (choice.layer === 'universal') {
      const universal = props.universalLayers?.[arch];
      if (universal === undefined) {
        Annotations.of(fn).addWarningV2(
          'lifeline:noUniversalLayer',
          `Lifeline is not attached to this function: runtime ${fn.runtime.name} needs the universal layer for ${arch}, and none was given (universalLayers, universalLayerVersionArns or universalLayerDirs).`,
        );
      }
      return universal;
    }
    if (choice.image) {
      Annotations.of(fn).addWarningV2(
        'lifeline:containerImage',
        `Lifeline is not attached to this function: ${choice.reason}. Add these two lines to its Dockerfile, with the built extension/dist/layer-universal-${arch} (or lifeline-universal-${arch}.zip unpacked) as layer-universal-${arch} in the build context, then set the token variables on the function:\n` +
          `  COPY layer-universal-${arch}/ /opt/\n` +
          `  ENV ${COLLECTOR_URL_ENV}=${props.environment[COLLECTOR_URL_ENV] ?? '<collector URL>'}`,
      );
      return undefined;
    }
    Annotations.of(fn).addWarningV2(
      'lifeline:unsupportedRuntime',
      `Lifeline is not attached to this function: ${choice.reason}.`,
    );
    return undefined;
  }
}

function validateProps(props: LifelineProps): void {
  const layerSources = [
    props.layerDir !== undefined && 'layerDir',
    props.layer !== undefined && 'layer',
    props.layerVersionArn !== undefined && 'layerVersionArn',
  ].filter((name): name is string => name !== false);
  if (layerSources.length > 1) {
    throw new Error(
      `Lifeline takes one layer source, but got ${layerSources.join(' and ')}: pass only one of layerDir, layer or layerVersionArn.`,
    );
  }
  const url = props.collectorUrl;
  if (!Token.isUnresolved(url)) {
    if (!/^https?:\/\/[^\s/]+/.test(url)) {
      throw new Error(
        `Lifeline's collectorUrl must be an http:// or https:// URL, but got "${url}".`,
      );
    }
    if (/^https?:\/\/[^/]*@/.test(url)) {
      throw new Error(
        "Lifeline's collectorUrl must not carry credentials (user:password@); pass the token through token instead.",
      );
    }
  }
  if (
    props.layerVersionArn !== undefined &&
    !Token.isUnresolved(props.layerVersionArn) &&
    !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/.test(
      props.layerVersionArn,
    )
  ) {
    throw new Error(
      `Lifeline's layerVersionArn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>), but got "${props.layerVersionArn}".`,
    );
  }
}

function resolveLayers(
  scope: Construct,
  props: LifelineProps,
): {
  layer: ILayerVersion;
  universal: Partial<Record<UniversalArchitecture, ILayerVersion>>;
} {
  const universal: Partial<Record<UniversalArchitecture, ILayerVersion>> = {};
  let layer: ILayerVersion;
  if (props.layer !== undefined) {
    layer = props.layer;
  } else if (props.layerVersionArn !== undefined) {
    layer = LayerVersion.fromLayerVersionArn(scope, 'Layer', props.layerVersionArn);
  } else {
    const built = new LifelineLayer(scope, 'Layer', {
      layerDir: props.layerDir,
      universalLayerDirs: props.universalLayerDirs,
    });
    layer = built.layer;
    Object.assign(universal, built.universalLayers);
  }
  for (const [arch, arn] of Object.entries(props.universalLayerVersionArns ?? {})) {
    universal[arch as UniversalArchitecture] = LayerVersion.fromLayerVersionArn(
      scope,
      `UniversalLayer-${arch}`,
      arn,
    );
  }
  Object.assign(universal, props.universalLayers);
  return { layer, universal };
}
