export { applyEvents, expiresAt, requestIdsOf } from './apply-events.ts';
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
export {
  invocationStatus,
  lastInvokeIdOf,
  platformStatus,
  shutdownKind,
} from './invocation-status.ts';
export {
  concurrencySlots,
  INIT_BILLED_SINCE,
  INIT_KINDS,
  type InitBilling,
  type InitKind,
  type InvocationDisplayStatus,
  initBilling,
  initKind,
  invocationDisplayStatus,
  PROACTIVE_INIT_GAP_MS,
  runsConcurrently,
} from './lifecycle.ts';
export { metricsOf, numberField, recordObject, spanDuration, textField } from './record-fields.ts';
export {
  idleBeforeShutdownMs,
  initDurationOf,
  toEnvironment,
  toInvocation,
  toShutdown,
} from './views.ts';
