import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildUniversalLayers } from './build-universal.ts';
import { LAUNCHER, NAME, PASS_THROUGH, PASS_THROUGH_FILE } from './launchers.ts';
import { zipDirectory } from './zip.ts';

/** What {@link buildLayer} produced. */
export interface LayerBuild {
  /** `<outDir>/layer`: exactly the zip's contents. */
  layerDir: string;
  /** `<layerDir>/extensions/lifeline`, the executable launcher. */
  launcher: string;
  /** `<layerDir>/lifeline/pass-through.sh`, what the launcher runs where no Node.js is found. */
  passThrough: string;
  /** `<layerDir>/lifeline/index.mjs`, the bundle. */
  bundle: string;
  bundleBytes: number;
  /** Chunks `import()`ed only when needed (the AWS token code), `<layerDir>/lifeline/<name>-<hash>.mjs`. */
  lazyChunks: { path: string; bytes: number }[];
  /** Bytes each source contributes to the bundle (esbuild metafile), largest first. */
  contributions: { input: string; bytes: number }[];
  /** `<outDir>/lifeline-layer.zip`. */
  zip: string;
  zipBytes: number;
}

const PACKAGE_DIR = dirname(fileURLToPath(import.meta.url));

export { LAUNCHER } from './launchers.ts';

/**
 * Bundles the extension with esbuild (one minified ESM file for Node 20, no node_modules) and writes the layer
 * directory and a reproducible zip of it.
 */
export async function buildLayer(outDir: string = join(PACKAGE_DIR, 'dist')): Promise<LayerBuild> {
  const layerDir = join(outDir, 'layer');
  rmSync(layerDir, { recursive: true, force: true });
  const launcher = join(layerDir, 'extensions', NAME);
  const bundle = join(layerDir, NAME, 'index.mjs');
  const version = (
    JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const result = await build({
    entryPoints: { index: join(PACKAGE_DIR, 'src', 'bin.ts') },
    outdir: dirname(bundle),
    outExtension: { '.js': '.mjs' },
    // Dynamic imports (the AWS token code) become chunks loaded only when needed, not on the cold-start path.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    define: { __LIFELINE_VERSION__: JSON.stringify(version) },
  });
  const inputs = Object.keys(result.metafile.inputs);
  const foreign = inputs.filter((input) => input.includes('node_modules'));
  if (foreign.length > 0)
    throw new Error(`the bundle must not contain node_modules: ${foreign.join(', ')}`);
  mkdirSync(dirname(launcher), { recursive: true });
  writeFileSync(launcher, LAUNCHER);
  chmodSync(launcher, 0o755);
  chmodSync(bundle, 0o644);
  const passThrough = join(dirname(bundle), PASS_THROUGH_FILE);
  writeFileSync(passThrough, PASS_THROUGH);
  chmodSync(passThrough, 0o644);
  const contributions = Object.values(result.metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .map(([input, { bytesInOutput }]) => ({ input, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  const zip = join(outDir, `${NAME}-layer.zip`);
  const zipBuffer = zipDirectory(layerDir);
  writeFileSync(zip, zipBuffer);
  return {
    layerDir,
    launcher,
    passThrough,
    bundle,
    bundleBytes: statSync(bundle).size,
    lazyChunks: Object.keys(result.metafile.outputs)
      .map((output) => resolve(output))
      .filter((path) => path !== resolve(bundle))
      .map((path) => ({ path, bytes: statSync(path).size })),
    contributions,
    zip,
    zipBytes: zipBuffer.length,
  };
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  const started = performance.now();
  const layer = await buildLayer();
  console.log(
    `extension layer: ${relative(process.cwd(), layer.bundle)} ${layer.bundleBytes} bytes, ` +
      `${relative(process.cwd(), layer.zip)} ${layer.zipBytes} bytes`,
  );
  for (const chunk of layer.lazyChunks)
    console.log(`  lazy chunk: ${relative(process.cwd(), chunk.path)} ${chunk.bytes} bytes`);
  for (const { input, bytes } of layer.contributions.slice(0, 5))
    console.log(`  ${bytes} bytes  ${input}`);
  for (const universal of await buildUniversalLayers(layer)) {
    console.log(
      `universal layer ${universal.arch} (Node.js ${universal.nodeVersion}): ` +
        `${relative(process.cwd(), universal.zip)} ${universal.zipBytes} bytes, ${universal.unzippedBytes} unzipped`,
    );
  }
  console.log(`extension layers built in ${Math.round(performance.now() - started)} ms`);
}
