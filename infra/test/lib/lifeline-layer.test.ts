import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifelineLayer } from '../../lib/lifeline-layer.ts';
import { fixtureLayer, removeTempDirs, tempDir, testApp } from '../helpers/temp.ts';

afterAll(removeTempDirs);

describe('LifelineLayer', () => {
  let template: Template;
  let outdir: string;

  beforeAll(() => {
    const app = testApp();
    const stack = new Stack(app, 'LayerTest');
    new LifelineLayer(stack, 'Lifeline', { layerDir: fixtureLayer() });
    template = Template.fromStack(stack);
    outdir = app.synth().directory;
  });

  it('declares the Node.js runtimes and both architectures', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
      CompatibleArchitectures: ['x86_64', 'arm64'],
      LicenseInfo: 'MIT',
      Description: Match.stringLikeRegexp('Lifeline'),
      LayerName: 'lifeline',
    });
  });

  it('keeps old layer versions when replaced', () => {
    template.hasResource('AWS::Lambda::LayerVersion', { DeletionPolicy: 'Retain' });
  });

  it('stages an asset whose extensions/lifeline is executable', () => {
    const layer = Object.values(template.findResources('AWS::Lambda::LayerVersion'))[0];
    const key: unknown = layer?.Properties?.Content?.S3Key;
    expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
    const staged = join(outdir, `asset.${String(key).replace(/\.zip$/, '')}`);
    const launcher = statSync(join(staged, 'extensions', 'lifeline'));
    expect(launcher.isFile()).toBe(true);
    expect(launcher.mode & 0o111).not.toBe(0);
    expect(statSync(join(staged, 'lifeline', 'index.mjs')).isFile()).toBe(true);
  });

  it('throws with the build command when the layer directory is not built', () => {
    const stack = new Stack(testApp(), 'Unbuilt');
    expect(() => new LifelineLayer(stack, 'Lifeline', { layerDir: tempDir() })).toThrow(
      /npm run build -w @lifeline\/extension/,
    );
  });
});
