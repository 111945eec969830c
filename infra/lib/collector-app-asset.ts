import { Annotations, IgnoreMode } from 'aws-cdk-lib';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { missingAppRequirements } from './app-dir.ts';

/**
 * Files of the repository a collector host does not need. Git-style patterns; workspace package.json files stay so
 * `npm ci --workspace collector` can install on the host. The host runs the built code (dist): sources only add weight.
 */
const APP_EXCLUDES = [
  '/.*/',
  '.git',
  'node_modules/',
  'cdk.out/',
  'coverage/',
  '*.tsbuildinfo',
  '*.log',
  '.vite/',
  'test/',
  '/data/',
  '/artifacts/',
  '/bench/',
  '/docs/',
  '/e2e/',
  '/infra/*',
  '!/infra/package.json',
  '/extension/*',
  '!/extension/package.json',
  '/emulator/*',
  '!/emulator/package.json',
  '/protocol/src/',
  '/collector/src/',
  '/web/src/',
];

/**
 * Warns at synth time when `appDir` lacks what `node collector/dist/server.js` needs (the deployment would start a
 * host that cannot run the collector), naming each missing piece and the command that builds it.
 */
export function warnIfCollectorNotBuilt(scope: Construct, appDir: string): void {
  const missing = missingAppRequirements(appDir);
  if (missing.length === 0) return;
  const list = missing.map((m) => `${m.path} (${m.what})`).join(', ');
  Annotations.of(scope).addWarningV2(
    'lifeline:collectorNotBuilt',
    `${appDir} lacks ${list}, so the instance could not run the collector: run \`npm run build\` at the repository root (or \`npm run synth\`, which builds what is missing) before deploying.`,
  );
}

/** The built repository as the asset every collector host downloads (construct id `App`). */
export function collectorAppAsset(scope: Construct, appDir: string): Asset {
  return new Asset(scope, 'App', {
    path: appDir,
    exclude: APP_EXCLUDES,
    ignoreMode: IgnoreMode.GIT,
  });
}
