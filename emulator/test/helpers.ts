import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';
import { Sandbox } from '../src/index.ts';
import type { SandboxOptions } from '../src/types.ts';

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
