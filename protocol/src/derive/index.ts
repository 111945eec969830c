export { applyEvents, requestIdsOf } from './apply-events.ts';
export { deriveEvents } from './derive-events.ts';
export { environmentState } from './environment-state.ts';
export {
  ENVIRONMENT_FACT_FIELDS,
  type EnvironmentFacts,
  type EnvironmentModel,
  INVOCATION_FACT_FIELDS,
  type InvocationFacts,
  newEnvironmentFacts,
  newInvocationFacts,
} from './facts.ts';
export { invocationStatus, platformStatus, shutdownKind } from './invocation-status.ts';
export { metricsOf, numberField, recordObject, spanDuration, textField } from './record-fields.ts';
export { initDurationOf, toEnvironment, toInvocation, toShutdown } from './views.ts';
