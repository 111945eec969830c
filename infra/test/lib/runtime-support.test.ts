import { Fn } from 'aws-cdk-lib';
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { chooseLayer, layerSupportsRuntime } from '../../lib/runtime-support.ts';

describe('layerSupportsRuntime', () => {
  it.each([Runtime.NODEJS_20_X, Runtime.NODEJS_22_X, Runtime.NODEJS_24_X, Runtime.NODEJS_LATEST])(
    'supports $name',
    (runtime) => {
      expect(layerSupportsRuntime(runtime)).toEqual({ supported: true });
    },
  );

  it('supports a newer Node.js runtime than the layer declares', () => {
    const next = new Runtime('nodejs26.x', RuntimeFamily.NODEJS, { supportsInlineCode: true });
    expect(layerSupportsRuntime(next).supported).toBe(true);
  });

  it('supports a Node.js runtime whose name is only known at deploy time', () => {
    const regional = new Runtime(Fn.findInMap('Runtimes', 'node', 'latest'), RuntimeFamily.NODEJS);
    expect(layerSupportsRuntime(regional).supported).toBe(true);
  });

  it.each([
    [Runtime.PYTHON_3_13, /has no Node\.js/],
    [Runtime.JAVA_21, /has no Node\.js/],
    [Runtime.PROVIDED_AL2023, /has no Node\.js/],
    [Runtime.NODEJS_18_X, /older than nodejs20\.x/],
    [Runtime.FROM_IMAGE, /container image/],
  ])('refuses %s with a reason', (runtime, reason) => {
    const support = layerSupportsRuntime(runtime);
    expect(support.supported).toBe(false);
    expect(support.supported ? '' : support.reason).toMatch(reason);
  });
});

describe('chooseLayer', () => {
  it.each([
    [Runtime.NODEJS_22_X, 'js'],
    [Runtime.NODEJS_LATEST, 'js'],
    [Runtime.PYTHON_3_13, 'universal'],
    [Runtime.PYTHON_3_12, 'universal'],
    [Runtime.JAVA_21, 'universal'],
    [Runtime.DOTNET_8, 'universal'],
    [Runtime.RUBY_3_3, 'universal'],
    [Runtime.PROVIDED_AL2023, 'universal'],
    [new Runtime('python3.14', RuntimeFamily.PYTHON), 'universal'],
    [Runtime.PYTHON_3_11, 'none'],
    [Runtime.JAVA_17, 'none'],
    [Runtime.PROVIDED_AL2, 'none'],
    [Runtime.RUBY_3_2, 'none'],
    [Runtime.NODEJS_18_X, 'none'],
    [Runtime.FROM_IMAGE, 'none'],
  ])('gives %s the %s layer', (runtime, layer) => {
    expect(chooseLayer(runtime).layer).toBe(layer);
  });

  it('says why an Amazon Linux 2 runtime gets none, and marks container images', () => {
    const old = chooseLayer(Runtime.JAVA_11);
    expect(old.layer === 'none' && old.reason).toMatch(/Amazon Linux 2 .*glibc/);
    const image = chooseLayer(Runtime.FROM_IMAGE);
    expect(image.layer === 'none' && image.image).toBe(true);
  });
});
