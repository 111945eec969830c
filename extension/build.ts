import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

/** What {@link buildLayer} produced. */
export interface LayerBuild {
  /** `<outDir>/layer`: exactly the zip's contents. */
  layerDir: string;
  /** `<layerDir>/extensions/lifeline`, the executable launcher. */
  launcher: string;
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
const NAME = 'lifeline';

/**
 * The launcher Lambda starts from `/opt/extensions/lifeline`. It clears NODE_OPTIONS (the function's flags are not
 * ours), finds the bundle relative to its own path (so an unpacked layer runs anywhere) and execs Node, preferring
 * the Lambda runtime's `/var/lang/bin/node`. Parameter expansion instead of dirname: no extra process on cold start.
 */
export const LAUNCHER = `#!/bin/bash
unset NODE_OPTIONS
dir="\${0%/*}"
[ "$dir" = "$0" ] && dir=.
node=/var/lang/bin/node
[ -x "$node" ] || node=node
exec "$node" "$dir/../${NAME}/index.mjs" "$@"
`;

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

/** A file or directory to put into a zip. */
export interface ZipItem {
  /** Forward-slash path inside the zip; directories end with `/`. */
  name: string;
  /** Unix mode including the file type bits, e.g. 0o100755. */
  mode: number;
  data: Buffer;
}

/** Zips a directory: sorted entries, fixed timestamps, Unix modes kept (reproducible byte for byte). */
export function zipDirectory(root: string): Buffer {
  const items: ZipItem[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      const zipName = relative(root, path).split(sep).join('/');
      if (stat.isDirectory()) {
        items.push({ name: `${zipName}/`, mode: 0o040755, data: Buffer.alloc(0) });
        walk(path);
      } else {
        const executable = (stat.mode & 0o111) !== 0;
        items.push({
          name: zipName,
          mode: executable ? 0o100755 : 0o100644,
          data: readFileSync(path),
        });
      }
    }
  };
  walk(root);
  return writeZip(items);
}

/** Writes a zip archive (deflate, no extra fields, DOS time 1980-01-01 00:00) of `items` in the given order. */
export function writeZip(items: readonly ZipItem[]): Buffer {
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const item of items) {
    const name = Buffer.from(item.name, 'utf8');
    const isDir = item.name.endsWith('/');
    const compressed = isDir ? item.data : deflateRawSync(item.data, { level: 9 });
    const method = isDir ? 0 : 8;
    const crc = crc32(item.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(item.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(item.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(((item.mode << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(items.length, 8);
  end.writeUInt16LE(items.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, centralDir, end]);
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  const layer = await buildLayer();
  console.log(
    `extension layer: ${relative(process.cwd(), layer.bundle)} ${layer.bundleBytes} bytes, ` +
      `${relative(process.cwd(), layer.zip)} ${layer.zipBytes} bytes`,
  );
  for (const chunk of layer.lazyChunks)
    console.log(`  lazy chunk: ${relative(process.cwd(), chunk.path)} ${chunk.bytes} bytes`);
  for (const { input, bytes } of layer.contributions.slice(0, 5))
    console.log(`  ${bytes} bytes  ${input}`);
}
