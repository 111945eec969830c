export { type BuildAppOptions, buildApp, loggerOptions, redactUrl } from './app.ts';
export {
  type CollectorConfig,
  ConfigError,
  DEFAULT_PORT,
  defaultConfig,
  isLoopbackHost,
  loadConfig,
  usage,
} from './config.ts';
export { applyEvents, requestIdsOf } from './derive/apply-events.ts';
export { deriveEvents } from './derive/derive-events.ts';
export { environmentState } from './derive/environment-state.ts';
export type { EnvironmentFacts, EnvironmentModel, InvocationFacts } from './derive/facts.ts';
export { toEnvironment, toInvocation, toShutdown } from './derive/views.ts';
export { openDatabase, type SqliteDatabase } from './plugins/db.ts';
export {
  createSqliteRepository,
  type EncodedEvent,
  type EventsRepository,
  type InsertResult,
  type StoredRow,
} from './plugins/events-repository.ts';
export { eventsFrame, type LiveHub, type LiveHubOptions } from './plugins/live-hub.ts';
export { assertSafeToListen, type RunningCollector, startCollector } from './start.ts';
