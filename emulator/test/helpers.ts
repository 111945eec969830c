import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';
import { Sandbox } from '../src/index.ts';
import type { EmulatorLogEntry, SandboxOptions } from '../src/types.ts';

export const FIXTURES = resolve(import.meta.dirname, 'fixtures');

/** Behaviour of the standard test extension (test/fixtures/standard-extension.mjs). */
export interface ExtensionConfig {
  registerName?: string;
  events?: string[];
  registerHeaders?: Record<string, string>;
  tickMs?: number;
  telemetry?: {
    types?: string[];
    buffering?: Record<string, number>;
    statuses?: number[];
    path?: string;
    schemaVersion?: string;
  };
  initErrorType?: string;
  initDelayMs?: number;
  invokeWorkMs?: number;
  shutdownWorkMs?: number;
  shutdownExitCode?: number;
  ignoreShutdown?: boolean;
  crashOnInvoke?: number;
  exitErrorOnInvoke?: number;
  reportEnv?: boolean;
}

/** A temp directory removed when the test ends. */
export function tempDir(prefix = 'lifeline-emu-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An extensions directory with one standard extension per entry of `extensions`. */
export function extensionsDir(extensions: Record<string, ExtensionConfig>): string {
  const root = tempDir('lifeline-layer-');
  const dir = join(root, 'extensions');
  mkdirSync(dir);
  mkdirSync(join(root, 'config'));
  for (const [name, config] of Object.entries(extensions)) {
    addExtension(dir, name, config);
  }
  return dir;
}

/**
 * Adds a launched file `name` (in `dir`, made by {@link extensionsDir}) running the standard extension with `config`
 * (kept in the sibling `config/` folder, so it is not launched itself).
 */
export function addExtension(dir: string, name: string, config: ExtensionConfig): void {
  const file = join(dir, name);
  const target = pathToFileURL(join(FIXTURES, 'standard-extension.mjs')).href;
  // No file extension, so Node loads the launcher as CommonJS: a dynamic import reaches the ESM fixture.
  writeFileSync(file, `#!/usr/bin/env node\nimport(${JSON.stringify(target)});\n`);
  chmodSync(file, 0o755);
  writeFileSync(join(dirname(dir), 'config', `${name}.json`), JSON.stringify({ name, ...config }));
}

/** Writes an executable extension file with the given source. */
export function writeScript(dir: string, name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  chmodSync(file, 0o755);
  return file;
}

/** A sandbox closed when the test ends. */
export function sandbox(options: SandboxOptions): Sandbox {
  const box = new Sandbox({ logOutput: false, ...options });
  onTestFinished(() => box.close());
  return box;
}

/** Every `LL <json>` record an extension printed. */
export function reports(box: Sandbox, name: string): Record<string, unknown>[] {
  return box
    .output(name)
    .split('\n')
    .filter((line) => line.startsWith('LL '))
    .map((line) => JSON.parse(line.slice(3)) as Record<string, unknown>);
}

/** A raw HTTP exchange with the sandbox (no client-side timeout). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one raw HTTP request to `address` ("127.0.0.1:PORT"). */
export function raw(
  address: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const [host, port] = address.split(':');
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      { host, port: Number(port), method, path, headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Registers through raw HTTP; returns the response and the identifier issued. */
export async function rawRegister(
  address: string,
  name: string,
  events: string[] = ['INVOKE'],
  headers: Record<string, string> = {},
): Promise<RawResponse & { id: string }> {
  const res = await raw(address, 'POST', '/2020-01-01/extension/register', {
    headers: { 'Lambda-Extension-Name': name, ...headers },
    body: JSON.stringify({ events }),
  });
  return { ...res, id: String(res.headers['lambda-extension-identifier'] ?? '') };
}

/** The exact RAPID error body. */
export function errorBody(errorType: string, errorMessage: string): string {
  return `${JSON.stringify({ errorMessage, errorType })}\n`;
}

/** Resolves when `predicate` holds for a log entry (checks past entries first). */
export function logEntry(
  box: Sandbox,
  predicate: (entry: EmulatorLogEntry) => boolean,
): Promise<EmulatorLogEntry> {
  const found = box.log.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolvePromise) => {
    const stop = box.onLog((entry) => {
      if (predicate(entry)) {
        stop();
        resolvePromise(entry);
      }
    });
  });
}

/** An extension file that never registers (holds its name for raw-HTTP registration by the test). */
export function sleeperExtension(dir: string, name: string): void {
  writeScript(dir, name, '#!/usr/bin/env node\nsetInterval(() => {}, 1000);\n');
}
