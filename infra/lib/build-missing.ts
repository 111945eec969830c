import { missingAppRequirements } from './app-dir.ts';
import { assertLayerDir, LayerDirError } from './layer-dir.ts';

/** One build command, run from the repository root. */
export interface BuildStep {
  /** What it produces, for messages. */
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** Options of {@link buildMissing}. */
export interface BuildMissingOptions {
  /** The repository root (the collector's app directory). */
  readonly root: string;
  /** The extension layer directory. */
  readonly layerDir: string;
  /** The universal layer directories the same build writes, checked like `layerDir`. @default none */
  readonly universalLayerDirs?: readonly string[];
  /** Runs one step; returns false when it failed. */
  readonly run: (step: BuildStep) => boolean;
}

/** Thrown when a build step fails or leaves something `cdk synth` packages missing. */
export class BuildMissingError extends Error {
  override readonly name = 'BuildMissingError';
}

/** Builds the layer. */
export const LAYER_STEP: BuildStep = {
  what: 'the extension layer',
  command: 'npm',
  args: ['run', 'build', '-w', '@lifeline/extension'],
};
/** Builds protocol/dist and collector/dist. `--force`: tsc -b trusts its build info, which survives a deleted dist. */
export const COLLECTOR_STEP: BuildStep = {
  what: 'protocol/dist and collector/dist',
  command: 'npx',
  args: ['tsc', '-b', '--force', 'collector/tsconfig.json'],
};
/** Builds web/dist. */
export const WEB_STEP: BuildStep = {
  what: 'web/dist',
  command: 'npm',
  args: ['run', 'build', '-w', '@lifeline/web'],
};

/**
 * Builds what `cdk synth` packages and is missing (the extension layer; the collector's app asset: protocol and
 * collector dist, the dashboard), then checks that nothing is missing any more.
 *
 * @returns the steps it ran, none when everything was there
 * @throws BuildMissingError with a sentence naming the failed step or what is still missing
 */
export function buildMissing(options: BuildMissingOptions): BuildStep[] {
  const steps: BuildStep[] = [];
  const layerDirs = [options.layerDir, ...(options.universalLayerDirs ?? [])];
  if (!layerDirs.every(layerReady)) steps.push(LAYER_STEP);
  const missing = missingAppRequirements(options.root);
  if (missing.some((m) => m.build === 'collector')) steps.push(COLLECTOR_STEP);
  if (missing.some((m) => m.build === 'web')) steps.push(WEB_STEP);
  for (const step of steps) {
    if (!options.run(step)) {
      throw new BuildMissingError(`building ${step.what} failed; see the output above.`);
    }
  }
  for (const dir of layerDirs) assertLayerDir(dir);
  const still = missingAppRequirements(options.root);
  if (still.length > 0) {
    throw new BuildMissingError(
      `the collector's app asset still lacks ${still.map((m) => `${m.path} (${m.what})`).join(', ')}.`,
    );
  }
  return steps;
}

function layerReady(layerDir: string): boolean {
  try {
    assertLayerDir(layerDir);
    return true;
  } catch (error) {
    if (error instanceof LayerDirError) return false;
    throw error;
  }
}
