import type { PlatformEvent, RegisterEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { realCollector } from '../helpers/collector-sandbox.ts';
import { logOf } from '../helpers/layer-sandbox.ts';

/**
 * The layer under each of the emulator's lifecycle modes against a real collector: every invoke and the shutdown of
 * every environment arrive, each environment under its own envId.
 */

describe('provisioned concurrency', () => {
  it('records two provisioned environments with every invoke and their shutdowns, under distinct envIds', async () => {
    const { sandbox, environment } = await realCollector();
    const sandboxes = [0, 1].map(() => sandbox({ initializationType: 'provisioned-concurrency' }));
    const requestIds: string[][] = [[], []];
    for (const [index, created] of sandboxes.entries()) {
      for (let i = 0; i < 3; i++) {
        const invoke = await created.invoke({ durationMs: 10 });
        expect(invoke.status).toBe('success');
        requestIds[index]!.push(invoke.requestId);
      }
      await created.shutdown('spindown');
    }
    const envIds = sandboxes.map(
      (created) => logOf(created.log, 'extension.register')[0]!.extensionId!,
    );
    expect(new Set(envIds).size).toBe(2);
    for (const [index, envId] of envIds.entries()) {
      const detail = await environment(envId);
      expect(detail.environment).toMatchObject({
        envId,
        state: 'ended',
        initializationType: 'provisioned-concurrency',
        invokeCount: 3,
        missingEvents: 0,
        droppedEvents: 0,
      });
      expect(detail.environment.shutdown).toMatchObject({ reason: 'spindown' });
      expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
        [...requestIds[index]!].sort(),
      );
    }
  });
});

describe('Lambda Managed Instances', () => {
  it('keeps the function answering every invoke, 4 at once, and records them all and the shutdown', async () => {
    const { sandbox, environment } = await realCollector();
    const created = sandbox({ mode: 'lmi', concurrency: 4, freeze: false });
    const init = await created.init();
    expect(init.status).toBe('success');
    const requestIds: string[] = [];
    for (let round = 0; round < 3; round++) {
      const invokes = await Promise.all([0, 1, 2, 3].map(() => created.invoke({ durationMs: 50 })));
      for (const invoke of invokes) {
        expect(invoke.status).toBe('success');
        requestIds.push(invoke.requestId);
      }
    }
    const shutdown = await created.shutdown('spindown');
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
    ]);
    const envId = logOf(created.log, 'extension.register')[0]!.extensionId!;
    const detail = await environment(envId);
    expect(detail.environment).toMatchObject({
      envId,
      state: 'ended',
      initializationType: 'lambda-managed-instances',
      missingEvents: 0,
      droppedEvents: 0,
    });
    expect(detail.environment.shutdown).toMatchObject({ reason: 'spindown' });
    expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
      [...requestIds].sort(),
    );
    expect(detail.invocations.every((invocation) => invocation.reportPending === false)).toBe(true);
  });
});

describe('tenant isolation', () => {
  it('records one environment per tenant, every invoke with its tenantId, and both shutdowns', async () => {
    const { sandbox, environment, events } = await realCollector();
    const tenants = ['tenant-blue', 'tenant-green'];
    const sandboxes = tenants.map((tenantId) => sandbox({ tenantId }));
    const requestIds: string[][] = [[], []];
    for (const [index, created] of sandboxes.entries()) {
      for (let i = 0; i < 2; i++) {
        const invoke = await created.invoke({ durationMs: 10 });
        expect(invoke.status).toBe('success');
        requestIds[index]!.push(invoke.requestId);
      }
      await created.shutdown('spindown');
    }
    const envIds = sandboxes.map(
      (created) => logOf(created.log, 'extension.register')[0]!.extensionId!,
    );
    expect(new Set(envIds).size).toBe(2);
    const stored = await events();
    for (const [index, envId] of envIds.entries()) {
      const detail = await environment(envId);
      expect(detail.environment).toMatchObject({
        state: 'ended',
        invokeCount: 2,
        missingEvents: 0,
      });
      expect(detail.environment.shutdown).toMatchObject({ reason: 'spindown' });
      expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
        [...requestIds[index]!].sort(),
      );
      const perInvoke = stored.filter(
        (event): event is PlatformEvent =>
          event.envId === envId &&
          event.type === 'platform' &&
          ['platform.start', 'platform.runtimeDone', 'platform.report'].includes(event.recordType),
      );
      expect(perInvoke).toHaveLength(6);
      for (const event of perInvoke)
        expect((event.record as { tenantId?: string }).tenantId).toBe(tenants[index]);
    }
  });
});

describe('SnapStart', () => {
  it('gives two environments restored from one snapshot distinct envIds linked to it, with every invoke and shutdown', async () => {
    const { sandbox, environment, events } = await realCollector();
    const first = sandbox({ snapStart: true });
    const requestIds: string[][] = [[], []];
    requestIds[0]!.push((await first.invoke({ durationMs: 10 })).requestId);
    const second = sandbox({ snapStart: first.snapshot! });
    const restored = [first, second];
    requestIds[1]!.push((await second.invoke({ durationMs: 10 })).requestId);
    for (const [index, created] of restored.entries()) {
      const invoke = await created.invoke({ durationMs: 10 });
      expect(invoke.status).toBe('success');
      requestIds[index]!.push(invoke.requestId);
    }
    for (const created of restored) await created.shutdown('spindown');

    // Both present the snapshot's extension identifier: the registration is part of the snapshot.
    const identifiers = restored.map(
      (created) => logOf(created.log, 'extension.register')[0]!.extensionId!,
    );
    expect(identifiers[1]).toBe(identifiers[0]);
    const snapshotEnvId = identifiers[0]!;
    const stored = await events();
    const registers = stored.filter(
      (event): event is RegisterEvent =>
        event.type === 'register' && event.restoredFrom === snapshotEnvId,
    );
    const envIds = registers.map((event) => event.envId);
    expect(new Set(envIds).size).toBe(2);
    expect(envIds).not.toContain(snapshotEnvId);
    // The snapshot's INIT stays recorded as the snapshot's.
    const snapshot = await environment(snapshotEnvId, () => true);
    expect(snapshot.environment).toMatchObject({
      initializationType: 'snap-start',
      invokeCount: 0,
    });
    const initStarts = stored.filter(
      (event) => event.type === 'platform' && event.recordType === 'platform.initStart',
    );
    expect(initStarts.map((event) => event.envId)).toContain(snapshotEnvId);
    expect(initStarts.every((event) => event.envId === snapshotEnvId)).toBe(true);

    const byEnv = new Map<string, string[]>();
    for (const envId of envIds) {
      const detail = await environment(envId);
      expect(detail.environment).toMatchObject({
        state: 'ended',
        initializationType: 'snap-start',
        invokeCount: 2,
        missingEvents: 0,
        droppedEvents: 0,
      });
      expect(detail.environment.shutdown).toMatchObject({ reason: 'spindown' });
      byEnv.set(envId, detail.invocations.map((invocation) => invocation.requestId).sort());
      const restoreStarts = stored.filter(
        (event) =>
          event.envId === envId &&
          event.type === 'platform' &&
          event.recordType === 'platform.restoreStart',
      );
      expect(restoreStarts).toHaveLength(1);
    }
    expect([...byEnv.values()].sort()).toEqual(requestIds.map((ids) => [...ids].sort()).sort());
  });
});
