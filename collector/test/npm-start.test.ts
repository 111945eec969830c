import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from './helper.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm start -- ARGS` in its own process group (npm, sh, tsx and node), killed by group when the test ends. */
function npmStart(args: string[]) {
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LIFELINE_TOKEN: '',
      LIFELINE_READ_TOKEN: '',
      LIFELINE_LOG_LEVEL: 'warn',
    },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGKILL');
      await exited;
    }
  });
  return { child, output: () => output, exited };
}

/** Command lines of every process on this machine (what `ps` shows). */
function commandLines(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')];
      } catch {
        return [];
      }
    });
}

describe('npm start', () => {
  it('takes the tokens from files, so npm’s banner and the process list never show them', async () => {
    const dir = tempDir();
    const ingest = 'npm-start-ingest-token-7';
    const read = 'npm-start-read-token-7';
    writeFileSync(join(dir, 'ingest'), `${ingest}\n`);
    writeFileSync(join(dir, 'read'), `${read}\n`);
    const started = npmStart([
      '--no-demo',
      '--port',
      '0',
      '--db',
      join(dir, 'npm.db'),
      '--token-file',
      join(dir, 'ingest'),
      '--read-token-file',
      join(dir, 'read'),
    ]);
    const url = await new Promise<string>((done, fail) => {
      const poll = setInterval(() => {
        const match = /Lifeline dashboard: (http:\/\/\S+)\//.exec(started.output());
        if (match?.[1]) {
          clearInterval(poll);
          done(match[1]);
        }
      }, 50);
      started.exited.then((code) => {
        clearInterval(poll);
        fail(new Error(`npm start exited with ${code}: ${started.output()}`));
      });
    });
    // npm's banner repeats the command line: only the file names are in it.
    expect(started.output()).toMatch(
      /> tsx --conditions=source scripts\/start\.ts .*--token-file /,
    );
    const response = await fetch(`${url}/v1/functions`, {
      headers: { authorization: `Bearer ${read}` },
    });
    expect(response.status).toBe(200);
    expect((await fetch(`${url}/v1/functions`)).status).toBe(401);
    const lines = commandLines();
    expect(lines.some((line) => line.includes('--read-token-file'))).toBe(true);
    expect(lines.filter((line) => line.includes(read) || line.includes(ingest))).toEqual([]);
    // Ctrl-C reaches the whole foreground group, as in a terminal.
    process.kill(-(started.child.pid ?? 0), 'SIGINT');
    await started.exited;
    expect(started.output()).not.toContain(ingest);
    expect(started.output()).not.toContain(read);
  });

  it('refuses a token flag, and says the banner has just shown it', async () => {
    const dir = tempDir();
    const started = npmStart([
      '--no-demo',
      '--db',
      join(dir, 'x.db'),
      '--token',
      'typed-token-123',
    ]);
    expect(await started.exited).toBe(2);
    expect(started.output()).toContain('--token is not accepted');
    expect(started.output()).toContain('treat it as exposed and rotate it');
  });
});
