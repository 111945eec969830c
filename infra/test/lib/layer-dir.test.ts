import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertLayerDir, LayerDirError } from '../../lib/layer-dir.ts';
import { fixtureLayer, removeTempDirs, tempDir } from '../helpers/temp.ts';

afterAll(removeTempDirs);

describe('assertLayerDir', () => {
  it('accepts a directory with an executable extensions/lifeline', () => {
    expect(() => assertLayerDir(fixtureLayer())).not.toThrow();
  });

  it('tells to build the extension when the launcher is missing', () => {
    const dir = tempDir();
    expect(() => assertLayerDir(dir)).toThrow(LayerDirError);
    expect(() => assertLayerDir(dir)).toThrow(/npm run build -w @lifeline\/extension/);
  });

  it('rejects a launcher without an execute bit', () => {
    expect(() => assertLayerDir(fixtureLayer(0o644))).toThrow(/not executable/);
  });

  it('rejects a directory where the launcher should be', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'extensions', 'lifeline'), { recursive: true });
    expect(() => assertLayerDir(dir)).toThrow(/must be a file/);
  });
});
