export { LambdaFunction, type LambdaFunctionOptions } from './lambda-function.ts';
export { Sandbox } from './sandbox.ts';
export type {
  EmulatorLogEntry,
  EmulatorLogKind,
  EmulatorProfile,
  ExtensionExit,
  ExtensionInfo,
  ExtensionState,
  InitResult,
  InvokeOptions,
  InvokeOutcome,
  InvokeResult,
  SandboxOptions,
  SandboxState,
  ShutdownReason,
  ShutdownResult,
} from './types.ts';
