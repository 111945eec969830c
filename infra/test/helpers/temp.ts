import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';

/** Temp directories made by these helpers; remove them with {@link removeTempDirs} (afterAll). */
const made: string[] = [];

/** A fresh temp directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'lifeline-infra-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every temp directory made so far. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes files (path → content) under `root`, creating folders; a mode per file is optional. */
export function writeTree(
  root: string,
  files: Record<string, string | { content: string; mode: number }>,
): void {
  for (const [path, file] of Object.entries(files)) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    const { content, mode } = typeof file === 'string' ? { content: file, mode: 0o644 } : file;
    writeFileSync(target, content);
    chmodSync(target, mode);
  }
}

/** A layer directory shaped like `extension/dist/layer`, with an executable launcher. */
export function fixtureLayer(launcherMode = 0o755): string {
  const dir = tempDir('lifeline-layer-');
  writeTree(dir, {
    'extensions/lifeline': {
      content: '#!/bin/bash\nexec "$(dirname "$0")/../lifeline/index.mjs" "$@"\n',
      mode: launcherMode,
    },
    'lifeline/index.mjs': {
      content: '#!/usr/bin/env node\nconsole.log("lifeline");\n',
      mode: 0o755,
    },
  });
  return dir;
}

/** A built-repository directory shaped like the monorepo, for the collector's app asset. */
export function fixtureAppDir(options: { built: boolean } = { built: true }): string {
  const dir = tempDir('lifeline-app-');
  writeTree(dir, {
    'package.json': '{"name":"lifeline","private":true,"workspaces":["protocol","collector"]}\n',
    'package-lock.json': '{"lockfileVersion":3}\n',
    'protocol/package.json': '{"name":"@lifeline/protocol"}\n',
    'protocol/dist/index.js': 'export {};\n',
    'collector/package.json': '{"name":"@lifeline/collector"}\n',
    'collector/migrations/sqlite/001-init.sql': 'CREATE TABLE t (x);\n',
    'collector/migrations/postgres/001-init.sql': 'CREATE TABLE t (x integer);\n',
    'collector/test/helper.ts': 'export {};\n',
    'collector/src/server.ts': 'export {};\n',
    'node_modules/some-dep/index.js': 'module.exports = 1;\n',
    'infra/cdk.out/manifest.json': '{}\n',
    'infra/package.json': '{"name":"@lifeline/infra"}\n',
    'infra/lib/x.ts': 'export {};\n',
    'web/dist/index.html': '<!doctype html>\n',
    ...(options.built ? { 'collector/dist/server.js': 'export {};\n' } : {}),
  });
  return dir;
}

/** An app that synthesizes into its own temp directory, with the context this package's cdk.json sets. */
export function testApp(props: AppProps = {}): App {
  return new App({
    outdir: tempDir('lifeline-cdkout-'),
    ...props,
    context: {
      '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
      '@aws-cdk/aws-lambda-nodejs:useLatestRuntimeVersion': true,
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
      ...props.context,
    },
  });
}

/** Every JSON file (templates, nested templates, manifests) of a synthesized cloud assembly, as text. */
export function assemblyJsonFiles(outdir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(outdir)) {
    if (name.endsWith('.json')) files.set(name, readFileSync(join(outdir, name), 'utf8'));
  }
  return files;
}
