import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BuildStep,
  buildMissing,
  COLLECTOR_STEP,
  LAYER_STEP,
  WEB_STEP,
} from '../../lib/build-missing.ts';
import {
  fixtureAppDir,
  fixtureLayer,
  removeTempDirs,
  tempDir,
  writeTree,
} from '../helpers/temp.ts';

afterAll(removeTempDirs);

/** A fake build: records the steps and writes what each real one would produce. */
function fakeBuild(root: string, layerDir: string, fail?: BuildStep) {
  const ran: BuildStep[] = [];
  const run = (step: BuildStep): boolean => {
    ran.push(step);
    if (step === fail) return false;
    if (step === LAYER_STEP) {
      writeTree(layerDir, { 'extensions/lifeline': { content: '#!/bin/sh\n', mode: 0o755 } });
    }
    if (step === COLLECTOR_STEP) {
      writeTree(root, {
        'protocol/dist/index.js': 'export {};\n',
        'collector/dist/server.js': 'export {};\n',
      });
    }
    if (step === WEB_STEP) writeTree(root, { 'web/dist/index.html': '<!doctype html>\n' });
    return true;
  };
  return { ran, run };
}

describe('buildMissing', () => {
  it('runs nothing when everything is built', () => {
    const root = fixtureAppDir();
    const { ran, run } = fakeBuild(root, fixtureLayer());
    expect(buildMissing({ root, layerDir: fixtureLayer(), run })).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('builds the layer, the collector and the dashboard when they are missing', () => {
    const root = fixtureAppDir({ built: false });
    rmSync(join(root, 'web', 'dist'), { recursive: true });
    const layerDir = tempDir('lifeline-nolayer-');
    const { ran, run } = fakeBuild(root, layerDir);
    expect(buildMissing({ root, layerDir, run })).toEqual([LAYER_STEP, COLLECTOR_STEP, WEB_STEP]);
    expect(ran).toEqual([LAYER_STEP, COLLECTOR_STEP, WEB_STEP]);
  });

  it('rebuilds protocol and collector with a forced tsc -b when protocol/dist alone is gone', () => {
    const root = fixtureAppDir();
    rmSync(join(root, 'protocol', 'dist'), { recursive: true });
    const { ran, run } = fakeBuild(root, fixtureLayer());
    buildMissing({ root, layerDir: fixtureLayer(), run });
    expect(ran).toEqual([COLLECTOR_STEP]);
    expect(COLLECTOR_STEP.args).toEqual(['tsc', '-b', '--force', 'collector/tsconfig.json']);
  });

  it('throws a sentence naming the step that failed, and runs no further step', () => {
    const root = fixtureAppDir({ built: false });
    rmSync(join(root, 'web', 'dist'), { recursive: true });
    const { ran, run } = fakeBuild(root, fixtureLayer(), COLLECTOR_STEP);
    expect(() => buildMissing({ root, layerDir: fixtureLayer(), run })).toThrow(
      /building protocol\/dist and collector\/dist failed/,
    );
    expect(ran).toEqual([COLLECTOR_STEP]);
  });

  it('throws when what no build produces (the migrations) is missing', () => {
    const root = fixtureAppDir();
    rmSync(join(root, 'collector', 'migrations'), { recursive: true });
    const { ran, run } = fakeBuild(root, fixtureLayer());
    expect(() => buildMissing({ root, layerDir: fixtureLayer(), run })).toThrow(
      /still lacks collector\/migrations/,
    );
    expect(ran).toEqual([]);
  });
});
