import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildLayer } from '../build.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built layer directory (`extensions/lifeline` + `lifeline/index.mjs`). */
    layerDir: string;
    /** The built layer zip. */
    layerZip: string;
  }
}

/** Builds the layer once per run, exactly as `npm run build` does, into a temp dir the tests launch from. */
export default async function setup(project: TestProject): Promise<() => void> {
  const out = mkdtempSync(join(tmpdir(), 'lifeline-layer-'));
  const layer = await buildLayer(out);
  project.provide('layerDir', layer.layerDir);
  project.provide('layerZip', layer.zip);
  return () => rmSync(out, { recursive: true, force: true });
}
