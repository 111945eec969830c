import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLayer, LAUNCHER } from '../../extension/build.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The two layers under test: Lifeline (built exactly as `npm run build` does) and the bare baseline. */
export interface BenchLayers {
  /** extensions dir holding only `lifeline`. */
  lifeline: string;
  /** extensions dir holding only `bare`, launched by the same launcher script. */
  bare: string;
  bundleBytes: number;
  /** Bytes of the chunks Lifeline loads only when needed (the AWS token code). */
  lazyChunkBytes: number;
}

/** Builds both layers under `root`. */
export async function prepareLayers(root: string): Promise<BenchLayers> {
  const built = await buildLayer(join(root, 'lifeline'));
  const bareRoot = join(root, 'bare');
  mkdirSync(join(bareRoot, 'extensions'), { recursive: true });
  mkdirSync(join(bareRoot, 'bare'), { recursive: true });
  copyFileSync(join(HERE, 'bare-extension.mjs'), join(bareRoot, 'bare', 'index.mjs'));
  const launcher = join(bareRoot, 'extensions', 'bare');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(launcher, LAUNCHER.replace('/../lifeline"', '/../bare"'));
  chmodSync(launcher, 0o755);
  return {
    lifeline: join(built.layerDir, 'extensions'),
    bare: join(bareRoot, 'extensions'),
    bundleBytes: built.bundleBytes,
    lazyChunkBytes: built.lazyChunks.reduce((sum, chunk) => sum + chunk.bytes, 0),
  };
}
