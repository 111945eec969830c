// Runs one execution environment with a Python custom runtime and a layer, in a process started by
// `runWithoutNode` (no-node.ts) where no `node` exists on the machine, and prints what happened as one JSON line.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type InvokeResult, Sandbox, type ShutdownResult } from '@lifeline/emulator';
import type { NoNodeScenario, NoNodeScenarioResult } from './no-node.ts';

const scenario = JSON.parse(process.env.LIFELINE_SCENARIO!) as NoNodeScenario;
const runtime = fileURLToPath(new URL('./python-runtime.py', import.meta.url));

const sandbox = new Sandbox({
  extensionsDir: join(scenario.layerDir, 'extensions'),
  bootstrap: [scenario.python, runtime],
  runtime: 'python3.13',
  handler: 'app.handler',
  freeze: true,
  tmpDir: scenario.tmpDir,
  timeoutMs: 1500,
  env: scenario.env,
});
const invokes: InvokeResult[] = [];
let executable: string | undefined;
let shutdown: ShutdownResult | undefined;
try {
  for (let i = 0; i < scenario.invokes; i++) {
    invokes.push(await sandbox.invoke({ payload: { sleepMs: 10 } }));
    const pid = sandbox.extensions.find((extension) => extension.name === 'lifeline')?.pid;
    if (pid !== undefined && executable === undefined)
      executable = readlinkSync(`/proc/${pid}/exe`);
  }
  if (scenario.reason === 'spindown') {
    shutdown = await sandbox.shutdown('spindown');
  } else {
    const last = await sandbox.invoke({
      payload: scenario.reason === 'timeout' ? { sleepMs: 5000 } : { crash: true },
    });
    invokes.push(last);
    shutdown = last.shutdown;
  }
} finally {
  const output = sandbox.output('lifeline');
  const extensionIds = sandbox.log
    .filter((entry) => entry.kind === 'extension.register' && entry.extension === 'lifeline')
    .map((entry) => entry.extensionId!);
  await sandbox.close();
  const result: NoNodeScenarioResult = { invokes, shutdown, executable, output, extensionIds };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
