import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  findSandboxProcesses,
  killProcesses,
  type ProcessInfo,
  parseStat,
  readProcessTable,
} from '../src/process-tree.ts';

function info(pid: number, ppid: number, pgrp = pid, session = pid): ProcessInfo {
  return { pid, ppid, pgrp, session, startTime: String(pid * 10) };
}

describe('parseStat', () => {
  it('reads pid, ppid, group, session and start time when the command name holds spaces and parentheses', () => {
    const stat =
      '4242 (a (weird) name) S 100 4200 4100 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100';
    expect(parseStat(stat)).toEqual({
      pid: 4242,
      ppid: 100,
      pgrp: 4200,
      session: 4100,
      startTime: '987654',
    });
  });

  it('returns undefined when the line is malformed', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('12 no-parentheses S 1 2 3')).toBeUndefined();
    expect(parseStat('12 (short) S 1')).toBeUndefined();
  });
});

describe('findSandboxProcesses', () => {
  it('finds descendants, session and group members of the roots but not unrelated processes', () => {
    const table = [
      info(500, 1), // extension (root)
      info(501, 500, 501, 501), // detached child: own session, parent still the root
      info(502, 501, 501, 501), // its child
      info(503, 1, 500, 500), // orphan that stayed in the root's group
      info(504, 1, 504, 500), // orphan that stayed in the root's session
      info(600, 1), // unrelated
      info(601, 600), // unrelated child
    ];
    const found = findSandboxProcesses({ roots: [500], groups: [500] }, table).map((p) => p.pid);
    expect(found.sort()).toEqual([500, 501, 502, 503, 504]);
  });

  it('ignores a dead root group whose id now is the pid of another process', () => {
    const table = [info(500, 1), info(501, 1, 500, 500)];
    const found = findSandboxProcesses({ roots: [], groups: [500] }, table).map((p) => p.pid);
    expect(found).toEqual([]);
    const orphans = findSandboxProcesses({ roots: [], groups: [500] }, [info(501, 1, 500, 500)]);
    expect(orphans.map((p) => p.pid)).toEqual([501]);
  });

  it('follows the ppid chain only from live roots and never returns this process or its ancestors', () => {
    const table = [info(process.pid, 700), info(700, 1), info(701, 700), info(800, 1)];
    const found = findSandboxProcesses({ roots: [700], groups: [] }, table).map((p) => p.pid);
    expect(found).toEqual([701]);
  });

  it('finds an orphan in a session of its own by the environment mark', () => {
    const child = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, LIFELINE_TEST_MARK: `mark-${process.pid}` },
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const pid = child.pid!;
    const found = findSandboxProcesses({
      roots: [],
      groups: [],
      environment: `LIFELINE_TEST_MARK=mark-${process.pid}`,
    }).map((p) => p.pid);
    expect(found).toEqual([pid]);
  });
});

describe('killProcesses', () => {
  it('kills a process that is still the one found and skips one whose pid was reused', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const found = readProcessTable().find((p) => p.pid === child.pid)!;
    expect(found).toBeDefined();
    expect(killProcesses([{ ...found, startTime: `${found.startTime}1` }])).toEqual([]);
    expect(killProcesses([found, found])).toEqual([child.pid]);
    expect(await exited).toBe('SIGKILL');
  });
});
