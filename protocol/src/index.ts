export * from './api.ts';
export * from './constants.ts';
export * from './events.ts';
export * from './examples.ts';
export * from './live.ts';
export * from './telemetry.ts';
export * from './validate.ts';
export * from './version.ts';
