/**
 * @lifeline/emulator: a local AWS Lambda sandbox (Extensions, Telemetry and Runtime APIs, real processes).
 * `Sandbox` is one execution environment; `LambdaFunction` a pool of them.
 */
export { LambdaFunction, type LambdaFunctionOptions } from './lambda-function.ts';
export { Sandbox } from './sandbox.ts';
export type {
  EmulatorLogEntry,
  EmulatorLogKind,
  EmulatorProfile,
  ExtensionExit,
  ExtensionInfo,
  ExtensionState,
  InitializationType,
  InitResult,
  InvokeOptions,
  InvokeOutcome,
  InvokeResult,
  RestoreResult,
  SandboxMode,
  SandboxOptions,
  SandboxState,
  ShutdownReason,
  ShutdownResult,
  SnapshotIdentity,
} from './types.ts';
