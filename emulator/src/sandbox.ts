import type {
  EmulatorLogEntry,
  InitResult,
  InvokeOptions,
  InvokeResult,
  SandboxOptions,
  ShutdownReason,
  ShutdownResult,
} from './types.ts';

/** One Lambda execution environment (work in progress: API only). */
export class Sandbox {
  readonly options: SandboxOptions;
  readonly log: EmulatorLogEntry[] = [];
  constructor(options: SandboxOptions = {}) {
    this.options = options;
  }
  get runtimeApiAddress(): string {
    throw new Error('not implemented yet');
  }
  async init(): Promise<InitResult> {
    throw new Error('not implemented yet');
  }
  async invoke(_options: InvokeOptions = {}): Promise<InvokeResult> {
    throw new Error('not implemented yet');
  }
  async shutdown(_reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    throw new Error('not implemented yet');
  }
  async close(): Promise<void> {}
}
