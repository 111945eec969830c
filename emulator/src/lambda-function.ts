import type { Sandbox } from './sandbox.ts';
import type { InvokeOptions, InvokeResult, SandboxOptions, ShutdownReason } from './types.ts';

/** Options of a {@link LambdaFunction}: sandbox options (tmpDir is per sandbox) plus scaling. */
export interface LambdaFunctionOptions extends Omit<SandboxOptions, 'tmpDir' | 'sandboxId'> {
  maxConcurrency?: number;
  idleShutdownMs?: number;
}

/** A function = a pool of sandboxes (work in progress: API only). */
export class LambdaFunction {
  readonly sandboxes: Sandbox[] = [];
  readonly options: LambdaFunctionOptions;
  constructor(options: LambdaFunctionOptions = {}) {
    this.options = options;
  }
  async invoke(_options: InvokeOptions = {}): Promise<InvokeResult> {
    throw new Error('not implemented yet');
  }
  async close(_reason: ShutdownReason = 'spindown'): Promise<void> {}
}
