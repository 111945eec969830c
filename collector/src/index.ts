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
export { eventsFrame, type LiveHub, type LiveHubOptions } from './plugins/live-hub.ts';
export { assertSafeToListen, type RunningCollector, startCollector } from './start.ts';
export { isPostgresUrl, openStorage } from './storage/index.ts';
export { openSqliteStorage } from './storage/sqlite/index.ts';
export { openDatabase, type SqliteDatabase } from './storage/sqlite/open.ts';
export type {
  EncodedEvent,
  EventLog,
  IngestStore,
  InsertResult,
  QueryStore,
  RetentionStore,
  Storage,
  StoredRow,
} from './storage/types.ts';
