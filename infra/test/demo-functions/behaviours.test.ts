import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HANDLER = fileURLToPath(new URL('../../demo-functions/behaviours.mjs', import.meta.url));

/**
 * Runs the demo handler once in its own Node process (it reads DEMO_BEHAVIOUR at load and may exit the process),
 * with Math.random pinned so the "sometimes" branches are chosen on purpose.
 */
function invoke(behaviour: string, random: number) {
  const script = `
    Math.random = () => ${random};
    const { handler } = await import(${JSON.stringify(HANDLER)});
    let asked = false;
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => { asked = true; return 0; } };
    try {
      const result = await handler({ n: 3 }, context);
      console.log(JSON.stringify(asked ? { result, askedRemainingTime: true } : { result }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }
  `;
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, DEMO_BEHAVIOUR: behaviour },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}

describe('demo behaviours handler', () => {
  it('returns its behaviour and request id when fast', async () => {
    const { code, out } = await invoke('fast', 0.5);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      result: { behaviour: 'fast', requestId: 'req-1', input: 3 },
    });
  });

  it('exits the runtime process when crashy draws a crash', async () => {
    const { code, out } = await invoke('crashy', 0);
    expect(code).toBe(1);
    expect(out).toBe('');
  });

  it('returns normally when crashy draws neither crash nor error', async () => {
    const { code, out } = await invoke('crashy', 0.99);
    expect(code).toBe(0);
    expect(JSON.parse(out).result.behaviour).toBe('crashy');
  });

  it('sleeps past the remaining time when flaky-timeout draws a timeout', async () => {
    const { code, out } = await invoke('flaky-timeout', 0);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ askedRemainingTime: true });
  });

  it('answers quickly when flaky-timeout draws no timeout', async () => {
    const { out } = await invoke('flaky-timeout', 0.99);
    expect(JSON.parse(out)).not.toHaveProperty('askedRemainingTime');
  });

  it('throws a clear error for an unknown behaviour', async () => {
    const { out } = await invoke('teleport', 0.5);
    expect(JSON.parse(out)).toEqual({ error: 'unknown DEMO_BEHAVIOUR "teleport"' });
  });
});
