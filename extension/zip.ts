import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw, deflateRawSync } from 'node:zlib';

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
  return writeZip(directoryItems(root));
}

/**
 * {@link zipDirectory} with the compression on libuv's thread pool, so that several large layers compress in
 * parallel; the same bytes.
 */
export async function zipDirectoryAsync(root: string): Promise<Buffer> {
  const items = directoryItems(root);
  const compress = promisify(deflateRaw);
  const compressed = await Promise.all(
    items.map((item) => (isDirectory(item) ? item.data : compress(item.data, { level: 9 }))),
  );
  return assembleZip(items, compressed);
}

function isDirectory(item: ZipItem): boolean {
  return item.name.endsWith('/');
}

/** The entries of a directory tree, sorted by name at each level. */
function directoryItems(root: string): ZipItem[] {
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
  return items;
}

/** Writes a zip archive (deflate, no extra fields, DOS time 1980-01-01 00:00) of `items` in the given order. */
export function writeZip(items: readonly ZipItem[]): Buffer {
  return assembleZip(
    items,
    items.map((item) => (isDirectory(item) ? item.data : deflateRawSync(item.data, { level: 9 }))),
  );
}

function assembleZip(items: readonly ZipItem[], compressedData: readonly Buffer[]): Buffer {
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [index, item] of items.entries()) {
    const name = Buffer.from(item.name, 'utf8');
    const isDir = isDirectory(item);
    const compressed = compressedData[index]!;
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
