// Builds what `cdk synth` packages when it is missing (the extension layer, and the collector's app asset: protocol
// and collector dist, the dashboard), so that `npm run synth` works from a fresh checkout.
import { spawnSync } from 'node:child_process';
import { missingAppRequirements } from '../lib/app-dir.ts';
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

function run(what: string, command: string, args: readonly string[]): void {
  console.log(`infra: ${what} missing, running \`${[command, ...args].join(' ')}\``);
  const build = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error(`infra: building ${what} failed; see the output above.`);
    process.exit(1);
  }
}

if (!layerReady()) {
  run('the extension layer', 'npm', ['run', 'build', '-w', '@lifeline/extension']);
  try {
    assertLayerDir(DEFAULT_LAYER_DIR);
  } catch (error) {
    console.error(`infra: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

const missing = missingAppRequirements(REPO_ROOT);
if (missing.some((m) => m.build === 'collector')) {
  // tsc -b trusts its build info, which survives a deleted dist: force the rebuild.
  run('protocol/dist or collector/dist', 'npx', [
    'tsc',
    '-b',
    '--force',
    'collector/tsconfig.json',
  ]);
}
if (missing.some((m) => m.build === 'web')) {
  run('web/dist', 'npm', ['run', 'build', '-w', '@lifeline/web']);
}
const still = missingAppRequirements(REPO_ROOT);
if (still.length > 0) {
  console.error(
    `infra: the collector's app asset still lacks ${still.map((m) => m.path).join(', ')}; the instance could not run it.`,
  );
  process.exit(1);
}
