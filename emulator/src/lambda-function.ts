import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from './sandbox.ts';
import type {
  EmulatorLogEntry,
  InitResult,
  InvokeOptions,
  InvokeResult,
  SandboxOptions,
  ShutdownReason,
  ShutdownResult,
  SnapshotIdentity,
} from './types.ts';

/** Options of a {@link LambdaFunction}: sandbox options (each sandbox gets its own tmpDir) plus scaling. */
export interface LambdaFunctionOptions extends Omit<SandboxOptions, 'tmpDir' | 'sandboxId'> {
  /** Most sandboxes at once; further invokes wait for a free one. Default 10. */
  maxConcurrency?: number;
  /** An idle sandbox is shut down (`spindown`) after this long without an invoke. Default: never. */
  idleShutdownMs?: number;
}

interface Slot {
  sandbox: Sandbox;
  /** Tenant isolation: the one tenant this environment serves. */
  tenantId: string | undefined;
  /** Invokes running in it: at most 1, or the concurrency of a Managed Instances environment. */
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  stopping: Promise<ShutdownResult | undefined> | undefined;
}

/**
 * A function as a pool of sandboxes, like Lambda scaling out and spinning idle environments down: an invoke goes to an
 * idle sandbox, else to a new one (cold start) while under `maxConcurrency`, else waits for one to free up. With
 * `mode: 'lmi'` a sandbox takes up to `concurrency` invokes at once before another one is started, and
 * `maxConcurrency` counts sandboxes. With `snapStart`, the first environment's Init publishes the snapshot and every
 * other environment is restored from it (same extension identifiers); {@link publish} prepares restorable
 * environments ahead of the invokes.
 */
export class LambdaFunction {
  readonly #options: LambdaFunctionOptions;
  readonly #slots: Slot[] = [];
  readonly #waiting: (() => void)[] = [];
  readonly #root: string;
  readonly #log: EmulatorLogEntry[] = [];
  /** Every shutdown that happened (idle spindown, resets excluded). */
  readonly shutdowns: ShutdownResult[] = [];
  #closed = false;
  #count = 0;
  readonly #capacity: number;
  /** SnapStart: the snapshot every environment is restored from, once published. */
  #snapshot: SnapshotIdentity | undefined;
  #publishing: Promise<InitResult> | undefined;
  readonly #prefix = randomBytes(3).toString('hex');

  constructor(options: LambdaFunctionOptions = {}) {
    const maxConcurrency = options.maxConcurrency ?? 10;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new TypeError(
        `maxConcurrency must be an integer ≥ 1, got ${String(options.maxConcurrency)}`,
      );
    }
    if (options.idleShutdownMs !== undefined && !(options.idleShutdownMs >= 0)) {
      throw new TypeError(`idleShutdownMs must be ≥ 0, got ${String(options.idleShutdownMs)}`);
    }
    this.#options = { ...options, maxConcurrency };
    this.#capacity = options.mode === 'lmi' ? (options.concurrency ?? 4) : 1;
    this.#root = mkdtempSync(join(tmpdir(), 'lifeline-function-'));
  }

  /** Live sandboxes (shut-down ones are removed). */
  get sandboxes(): Sandbox[] {
    return this.#slots.map((slot) => slot.sandbox);
  }

  /** Log entries of every sandbox, in arrival order (bounded like a sandbox log). */
  get log(): EmulatorLogEntry[] {
    return this.#log;
  }

  /** Invokes the function on an idle sandbox, a new one, or the first one to free up. */
  async invoke(options: InvokeOptions = {}): Promise<InvokeResult> {
    // Tenant isolation: environments serve one tenant each, so each tenant has its own pool.
    const slot = await this.#acquire(options.tenantId ?? this.#options.tenantId);
    try {
      return await slot.sandbox.invoke(options);
    } finally {
      this.#releaseSlot(slot);
    }
  }

  /**
   * SnapStart: publishes the version — one Init that ends in the snapshot — and prepares `environments` environments
   * restorable from it (they Init now with the snapshot's identifiers and wait, stopped, for an invoke to restore
   * them), so restores later see a real gap since the snapshot. Resolves with the publishing Init.
   */
  async publish(environments = 1): Promise<InitResult> {
    if (!this.#options.snapStart) throw new Error('publish() needs snapStart');
    if (!Number.isInteger(environments) || environments < 1) {
      throw new TypeError(
        `publish(environments) needs an integer ≥ 1, got ${String(environments)}`,
      );
    }
    const init = await this.#published();
    if (init.status !== 'success') return init;
    const waiting = this.#slots.filter((slot) => slot.sandbox.state === 'snapshotted').length;
    const more: Slot[] = [];
    for (let i = waiting; i < environments && this.#slots.length < this.#maxSandboxes(); i++) {
      more.push(this.#create(this.#options.tenantId));
    }
    await Promise.all(more.map((slot) => slot.sandbox.init()));
    return init;
  }

  /** Shuts every sandbox down with `reason`, then closes them; idempotent. */
  async close(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult[]> {
    if (this.#closed) return [];
    this.#closed = true;
    for (const wake of this.#waiting.splice(0)) wake();
    const results = await Promise.all(this.#slots.map((slot) => this.#stop(slot, reason)));
    await Promise.all(this.#slots.map((slot) => slot.sandbox.close()));
    this.#slots.length = 0;
    rmSync(this.#root, { recursive: true, force: true });
    return results.filter((result): result is ShutdownResult => result !== undefined);
  }

  async #acquire(tenantId: string | undefined): Promise<Slot> {
    for (;;) {
      if (this.#closed) throw new Error('LambdaFunction is closed');
      const open = (slot: Slot) =>
        slot.tenantId === tenantId && slot.active < this.#capacity && !slot.stopping;
      // Warm first (an initialised environment, the busiest one that still has room), then a snapshot waiting to be
      // restored, then any with room.
      const idle = this.#slots
        .filter((slot) => open(slot) && slot.sandbox.state === 'idle')
        .sort((a, b) => b.active - a.active)[0];
      const reusable =
        idle ??
        this.#slots.find((slot) => open(slot) && slot.sandbox.state === 'snapshotted') ??
        this.#slots.find(open);
      if (reusable) {
        this.#claim(reusable);
        return reusable;
      }
      if (this.#options.snapStart && !this.#snapshot && this.#publishing) {
        // Environments are restored from the snapshot being published: wait for it.
        await this.#publishing;
        continue;
      }
      if (this.#slots.length < this.#maxSandboxes()) {
        const slot = this.#create(tenantId);
        this.#claim(slot);
        return slot;
      }
      // Full of other tenants' environments: one of them that is idle makes room, as Lambda would reclaim it.
      const reclaimable = this.#slots.find(
        (slot) => slot.tenantId !== tenantId && slot.active === 0 && !slot.stopping,
      );
      if (reclaimable) {
        await this.#retire(reclaimable);
        continue;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  #maxSandboxes(): number {
    return this.#options.maxConcurrency ?? 10;
  }

  /** SnapStart: the publishing Init, started once (by the first environment) and shared. */
  #published(): Promise<InitResult> {
    if (this.#publishing) return this.#publishing;
    // Creating the first SnapStart environment starts its publishing Init.
    this.#create(this.#options.tenantId);
    return this.#publishing!;
  }

  #claim(slot: Slot): void {
    slot.active += 1;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
  }

  #create(tenantId: string | undefined): Slot {
    this.#count += 1;
    const id = `sbx-${this.#prefix}-${this.#count}`;
    const { maxConcurrency: _max, idleShutdownMs: _idle, onLog, ...sandboxOptions } = this.#options;
    const sandbox = new Sandbox({
      ...sandboxOptions,
      ...(this.#options.snapStart && this.#snapshot ? { snapStart: this.#snapshot } : {}),
      sandboxId: id,
      tenantId,
      tmpDir: join(this.#root, id),
      onLog: (entry) => {
        this.#log.push(entry);
        const limit = this.#options.logLimit ?? 100_000;
        if (this.#log.length > limit + Math.ceil(limit / 10))
          this.#log.splice(0, this.#log.length - limit);
        onLog?.(entry);
      },
    });
    const slot: Slot = { sandbox, tenantId, active: 0, idleTimer: undefined, stopping: undefined };
    if (this.#options.snapStart && !this.#snapshot && !this.#publishing) {
      // The first SnapStart environment publishes: its Init makes the snapshot the others are restored from.
      const publishing = sandbox.init().then((init) => {
        if (init.status === 'success') this.#snapshot = sandbox.snapshot;
        else this.#publishing = undefined;
        return init;
      });
      this.#publishing = publishing;
    }
    this.#slots.push(slot);
    return slot;
  }

  #releaseSlot(slot: Slot): void {
    slot.active -= 1;
    const idleMs = this.#options.idleShutdownMs;
    if (idleMs !== undefined && !this.#closed && slot.active === 0) {
      slot.idleTimer = setTimeout(() => {
        slot.idleTimer = undefined;
        if (slot.active === 0) void this.#retire(slot);
      }, idleMs);
    }
    this.#waiting.shift()?.();
  }

  async #retire(slot: Slot): Promise<void> {
    const result = await this.#stop(slot, 'spindown');
    await slot.sandbox.close();
    const index = this.#slots.indexOf(slot);
    if (index !== -1) this.#slots.splice(index, 1);
    rmSync(slot.sandbox.tmpDir, { recursive: true, force: true });
    if (result) this.shutdowns.push(result);
    this.#waiting.shift()?.();
  }

  #stop(slot: Slot, reason: ShutdownReason): Promise<ShutdownResult | undefined> {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.stopping ??= slot.sandbox.shutdown(reason).catch(() => undefined);
    return slot.stopping;
  }
}
