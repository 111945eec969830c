export { CollectorCluster, type CollectorClusterProps } from './collector-cluster.ts';
export {
  type CollectorNodeMajor,
  CollectorService,
  type CollectorServiceProps,
  DEFAULT_COLLECTOR_PORT,
} from './collector-service.ts';
export { CollectorStack, type CollectorStackProps } from './collector-stack.ts';
export { DEMO_BEHAVIOURS, DemoStack, type DemoStackProps } from './demo-stack.ts';
export { assertLayerDir, EXTENSION_ENTRY, EXTENSION_NAME, LayerDirError } from './layer-dir.ts';
export { LayerStack, type LayerStackProps } from './layer-stack.ts';
export {
  COLLECTOR_URL_ENV,
  Lifeline,
  LifelineAspect,
  type LifelineAspectProps,
  type LifelineLogLevel,
  type LifelineProps,
  LOG_LEVEL_ENV,
} from './lifeline.ts';
export {
  addLifelineStacks,
  type LifelineAppProps,
  type LifelineStacks,
  STACK_NAMES,
} from './lifeline-app.ts';
export {
  LifelineLayer,
  type LifelineLayerProps,
  UNIVERSAL_ARCHITECTURES,
  type UniversalArchitecture,
} from './lifeline-layer.ts';
export {
  LifelineToken,
  type SecretTokenOptions,
  type SecureStringTokenOptions,
  TOKEN_ENV,
  TOKEN_PARAMETER_ENV,
  TOKEN_SECRET_ARN_ENV,
  TOKEN_SECRET_FIELD_ENV,
  type TokenBinding,
  type TokenResolution,
} from './lifeline-token.ts';
export {
  chooseLayer,
  LAYER_RUNTIMES,
  type LayerChoice,
  layerSupportsRuntime,
  type RuntimeSupport,
} from './runtime-support.ts';
