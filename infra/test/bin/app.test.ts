import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { assertLayerDir } from '../../lib/layer-dir.ts';
import { LayerStack } from '../../lib/layer-stack.ts';
import { DEFAULT_LAYER_DIR, REPO_ROOT } from '../../lib/paths.ts';
import { fixtureLayer, removeTempDirs, tempDir, testApp } from '../helpers/temp.ts';

afterAll(removeTempDirs);

const INFRA_DIR = join(REPO_ROOT, 'infra');

/** Runs a command to completion, collecting its output; the test's timeout bounds it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: INFRA_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The environment minus anything that could give the CDK CLI AWS credentials or a network reason. */
function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

describe('bin/app.ts', () => {
  it('synthesizes every stack with `cdk synth`, without credentials or Docker', async () => {
    const outdir = tempDir('lifeline-cli-out-');
    const { code, output } = await run(
      join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
      [
        'synth',
        '--quiet',
        '--no-notices',
        '-o',
        outdir,
        '-c',
        `lifeline:layerDir=${fixtureLayer()}`,
      ],
      credentialFreeEnv(),
    );
    expect(code, output).toBe(0);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string }>;
    };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([name]) => name)
      .sort();
    expect(stacks).toEqual(['LifelineCollector', 'LifelineDemo', 'LifelineLayer']);

    // The collector's app asset holds what `node collector/dist/server.js` needs besides node_modules.
    const app = readdirSync(outdir)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => join(outdir, name))
      .find((dir) => existsSync(join(dir, 'collector', 'dist', 'server.js')));
    expect(
      app,
      'no staged asset holds collector/dist/server.js: run `npm run build`',
    ).toBeDefined();
    const dir = app as string;
    for (const needed of [
      'package.json',
      'package-lock.json',
      'protocol/package.json',
      'protocol/dist/index.js',
      'collector/package.json',
      'collector/migrations',
      'web/dist/index.html',
    ]) {
      expect(existsSync(join(dir, needed)), needed).toBe(true);
    }
    for (const backend of ['sqlite', 'postgres']) {
      const migrations = readdirSync(join(dir, 'collector', 'migrations', backend));
      expect(
        migrations.some((f) => f.endsWith('.sql')),
        backend,
      ).toBe(true);
    }
    for (const absent of ['node_modules', '.git', 'infra/lib', 'collector/src', 'collector/test']) {
      expect(existsSync(join(dir, absent)), absent).toBe(false);
    }
  }, 180_000);
});

describe('the real extension layer', () => {
  it('is built and packaged with an executable extensions/lifeline', () => {
    try {
      assertLayerDir(DEFAULT_LAYER_DIR);
    } catch (error) {
      throw new Error(
        `extension/dist/layer is not ready: run \`npm run build -w @lifeline/extension\` (or \`npm run build\`) first. ${String(error)}`,
      );
    }
    const app = testApp();
    const stack = new LayerStack(app, 'RealLayer');
    const template = Template.fromStack(stack);
    const layer = Object.values(template.findResources('AWS::Lambda::LayerVersion'))[0];
    const key = String(layer?.Properties?.Content?.S3Key).replace(/\.zip$/, '');
    const launcher = statSync(
      join(app.synth().directory, `asset.${key}`, 'extensions', 'lifeline'),
    );
    expect(launcher.mode & 0o111).not.toBe(0);
  });
});
