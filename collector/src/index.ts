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
