import { fileURLToPath } from 'node:url';

/** The monorepo root (the folder holding the root package.json and package-lock.json). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `npm run build -w @lifeline/extension` writes the layer contents. */
export const DEFAULT_LAYER_DIR = fileURLToPath(
  new URL('../../extension/dist/layer/', import.meta.url),
);

/** The demo functions' code (plain ESM, no build step). */
export const DEMO_FUNCTIONS_DIR = fileURLToPath(new URL('../demo-functions/', import.meta.url));

/** Where `npm run build -w @lifeline/extension` writes the universal layer of each architecture. */
export const DEFAULT_UNIVERSAL_LAYER_DIRS = {
  x86_64: fileURLToPath(new URL('../../extension/dist/layer-universal-x86_64/', import.meta.url)),
  arm64: fileURLToPath(new URL('../../extension/dist/layer-universal-arm64/', import.meta.url)),
} as const;
