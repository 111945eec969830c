// Builds the extension layer when it is missing, so that `npm run synth` works from a fresh checkout.
import { spawnSync } from 'node:child_process';
import { assertLayerDir, LayerDirError } from '../lib/layer-dir.ts';
import { DEFAULT_LAYER_DIR, REPO_ROOT } from '../lib/paths.ts';

function layerReady(): boolean {
  try {
    assertLayerDir(DEFAULT_LAYER_DIR);
    return true;
  } catch (error) {
    if (error instanceof LayerDirError) return false;
    throw error;
  }
}

if (!layerReady()) {
  console.log('infra: extension layer missing, running `npm run build -w @lifeline/extension`');
  const build = spawnSync('npm', ['run', 'build', '-w', '@lifeline/extension'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error('infra: building the extension layer failed; see the output above.');
    process.exit(1);
  }
  try {
    assertLayerDir(DEFAULT_LAYER_DIR);
  } catch (error) {
    console.error(`infra: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
