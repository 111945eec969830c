/**
 * `npm start`: builds what is missing, starts the collector on an embedded SQLite file under ./data, serves the
 * dashboard, and runs the demo workload under the emulator with the real built layer. `--no-demo` runs the collector
 * and dashboard alone, for real functions. Ctrl-C stops everything and leaves no process behind.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, startCollector, usage } from '@lifeline/collector';
import { startDemo } from './demo.ts';

const root = resolve(import.meta.dirname, '..');
const layerDir = resolve(root, 'extension/dist/layer');

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log(`usage: npm start [-- --no-demo] [collector flags]

Starts the Lifeline collector and dashboard, and (unless --no-demo) a simulated fleet of Lambda functions running the
real Lifeline layer under the local emulator. The collector flags:

${usage().split('\n').slice(2).join('\n')}`);
  process.exit(0);
}
const demo = !argv.includes('--no-demo');
// Everything else is a collector flag, parsed (and validated) by the collector's own parser.
const collectorArgs = argv.filter((arg) => arg !== '--no-demo');

function buildIfMissing(what: string, marker: string, workspace: string): void {
  if (existsSync(resolve(root, marker))) return;
  console.log(`building ${what} (first run)…`);
  const result = spawnSync('npm', ['run', 'build', '-w', workspace], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`building ${what} failed; run \`npm run build\` to see why`);
    process.exit(1);
  }
}

buildIfMissing('the dashboard', 'web/dist/index.html', '@lifeline/web');
if (demo)
  buildIfMissing(
    'the extension layer',
    'extension/dist/layer/extensions/lifeline',
    '@lifeline/extension',
  );

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(collectorArgs, process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    if (collectorArgs.some((arg) => /^--(?:read-)?token(?:=|$)/.test(arg))) {
      // npm has already printed the command line in its "> lifeline@ start" banner, token included.
      console.error(
        'npm printed that token in its banner above (and your shell keeps it in its history): treat it as exposed and rotate it.',
      );
    }
    process.exit(2);
  }
  throw error;
}
// The demo's functions need the ingest token too; make one up unless the user gave one.
const token = config.token ?? (demo ? randomBytes(18).toString('base64url') : undefined);
const logLevel = process.env.LIFELINE_LOG_LEVEL ?? 'warn';

let collector: Awaited<ReturnType<typeof startCollector>>;
try {
  collector = await startCollector({ ...config, token, logLevel });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `port ${config.port} is in use: stop whatever holds it or pass --port`
      : (error as Error).message,
  );
  process.exit(1);
}

const running = demo
  ? startDemo({
      extensionsDir: resolve(layerDir, 'extensions'),
      collectorUrl: collector.url,
      token,
      onError: (error) => console.error(`demo: invoke failed: ${(error as Error).message}`),
    })
  : undefined;

console.log(`
  Lifeline dashboard: ${collector.url}/
  database:           ${config.dbPath}
  ${running ? `demo:               ${running.functions.length} simulated functions running the real layer` : 'demo:               off — attach the layer to real functions (see README)'}
  Press Ctrl-C to stop.
`);

let stoppingSince: number | undefined;
async function stop(signal: string): Promise<void> {
  if (stoppingSince !== undefined) {
    // A terminal's Ctrl-C reaches npm, tsx and us at once, and npm and tsx relay it again: only a second Ctrl-C a
    // moment later means "stop now".
    if (Date.now() - stoppingSince < 1500) return;
    console.error('forced exit');
    process.exit(130);
  }
  stoppingSince = Date.now();
  console.log(`\n${signal}: stopping${running ? ' (shutting the demo environments down)' : ''}…`);
  const force = setTimeout(() => {
    console.error('did not stop within 15 s; exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  await running?.stop();
  await collector.close();
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
