import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogOutput } from '../src/log-output.ts';
import { tempDir } from './helper.ts';

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('createLogOutput', () => {
  it('writes lines in order to a working file', async () => {
    const path = join(tempDir(), 'log');
    const fd = openSync(path, 'w');
    onTestFinished(() => closeSync(fd));
    const output = createLogOutput(fd);
    for (let i = 0; i < 100; i++) output.write(`{"n":${i}}\n`);
    await until(() => readFileSync(path, 'utf8').split('\n').length === 101);
    expect(readFileSync(path, 'utf8').split('\n').slice(0, 3)).toEqual([
      '{"n":0}',
      '{"n":1}',
      '{"n":2}',
    ]);
    expect(output.droppedLines).toBe(0);
  });

  it('drops and counts the lines a full device refuses, without throwing', async () => {
    const fd = openSync('/dev/full', 'w');
    onTestFinished(() => closeSync(fd));
    const output = createLogOutput(fd);
    for (let i = 0; i < 10; i++) output.write(`{"n":${i}}\n`);
    await until(() => output.droppedLines === 10);
    output.write('{"n":10}\n');
    output.flushSync();
    await until(() => output.droppedLines === 11);
  });

  it('holds at most its bound of lines for a reader that stopped reading, and drops the rest', async () => {
    // A FIFO whose reader never reads: the pipe fills, and the queue must not grow without bound.
    const fifo = join(tempDir(), 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    onTestFinished(() => {
      closeSync(fd);
      closeSync(reader);
    });
    const output = createLogOutput(fd, 64 * 1024);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 2000; i++) output.write(line);
    // 2,000 KiB offered, the pipe holds 64 KiB and the queue 64 KiB: most lines are dropped at once.
    expect(output.droppedLines).toBeGreaterThan(1000);
  });
});
