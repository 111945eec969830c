import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tsx's loader in THIS process (not the tsx CLI, which runs the server in a child that a SIGKILL would orphan).
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SERVER = fileURLToPath(new URL('../../collector/src/server.ts', import.meta.url));

/** A collector in its own process on 127.0.0.1:0, started the way `npm run collector` does. */
export async function spawnCollector(
  dbPath: string,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', SERVER, '--port', '0', '--db', dbPath],
    { env: { ...process.env, LIFELINE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(out);
      if (match?.[1]) resolve(match[1]);
      // Keep the pipe drained (request logs) without holding them in memory.
      if (out.length > 65_536) out = out.slice(-1024);
    });
    child.once('exit', (code) => reject(new Error(`collector exited (${code}) before listening`)));
  });
  return {
    url,
    pid: child.pid as number,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
