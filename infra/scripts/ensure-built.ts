// Builds what `cdk synth` packages when it is missing, so that `npm run synth` works from a fresh checkout.
import { spawnSync } from 'node:child_process';
import { buildMissing } from '../lib/build-missing.ts';
import { DEFAULT_LAYER_DIR, DEFAULT_UNIVERSAL_LAYER_DIRS, REPO_ROOT } from '../lib/paths.ts';

try {
  buildMissing({
    root: REPO_ROOT,
    layerDir: DEFAULT_LAYER_DIR,
    universalLayerDirs: Object.values(DEFAULT_UNIVERSAL_LAYER_DIRS),
    run: (step) => {
      console.log(
        `infra: ${step.what} missing, running \`${[step.command, ...step.args].join(' ')}\``,
      );
      return spawnSync(step.command, step.args, { cwd: REPO_ROOT, stdio: 'inherit' }).status === 0;
    },
  });
} catch (error) {
  console.error(`infra: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
