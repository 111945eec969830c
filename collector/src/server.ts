import { writeSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig, usage } from './config.ts';
import { startCollector } from './start.ts';

/**
 * Process entry: `npm run collector -- [--port P] …` or `node collector/dist/server.js`. Exit code 1 with a one-line
 * JSON error for bad configuration; graceful stop on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    fail(error);
    return;
  }
  let collector: Awaited<ReturnType<typeof startCollector>>;
  try {
    collector = await startCollector(config);
  } catch (error) {
    fail(error);
    return;
  }
  // Its messages go through the collector's log, which never throws or blocks when the output fails.
  closeWithGrace({ delay: 10_000, logger: collector.app.log }, async ({ signal, err }) => {
    if (err) collector.app.log.error({ err }, 'stopping after an unexpected error');
    else collector.app.log.info({ signal }, 'stopping');
    await collector.close();
  });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ConfigError ? error.code : 'COLLECTOR_ERR_START';
  const line = `${JSON.stringify({ level: 60, time: Date.now(), code, msg: `collector not started: ${message}` })}\n`;
  try {
    writeSync(2, line);
  } catch {
    // stderr itself failed (a full disk): the exit code still says it.
  }
  process.exitCode = 1;
}

await main();
