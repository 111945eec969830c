import { type Stats, statSync } from 'node:fs';
import { join } from 'node:path';

/** The extension's file name inside the layer: Lambda uses it as the `Lambda-Extension-Name`. */
export const EXTENSION_NAME = 'lifeline';

/** Path of the executable Lambda launches, relative to the layer root (`/opt` once deployed). */
export const EXTENSION_ENTRY = `extensions/${EXTENSION_NAME}`;

/** Thrown when a layer directory cannot become a working Lifeline layer. */
export class LayerDirError extends Error {
  override readonly name = 'LayerDirError';
}

/**
 * Checks that `dir` holds a Lifeline layer: an executable `extensions/lifeline` launcher.
 *
 * @throws LayerDirError with a sentence telling what is missing and how to build it.
 */
export function assertLayerDir(dir: string): void {
  const entry = join(dir, EXTENSION_ENTRY);
  let stats: Stats;
  try {
    stats = statSync(entry);
  } catch {
    throw new LayerDirError(
      `The Lifeline layer directory ${dir} has no ${EXTENSION_ENTRY}; build it first with \`npm run build -w @lifeline/extension\` (from the repository root) or pass layerDir.`,
    );
  }
  if (!stats.isFile()) {
    throw new LayerDirError(`${entry} must be a file (the extension launcher), not a directory.`);
  }
  if ((stats.mode & 0o111) === 0) {
    throw new LayerDirError(
      `${entry} is not executable; Lambda only launches executable files from /opt/extensions (chmod 755 it).`,
    );
  }
}
