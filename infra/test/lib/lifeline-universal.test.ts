import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Repository } from 'aws-cdk-lib/aws-ecr';
import {
  Architecture,
  Code,
  DockerImageCode,
  DockerImageFunction,
  Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lifeline } from '../../lib/lifeline.ts';
import { LifelineToken } from '../../lib/lifeline-token.ts';
import { fixtureLayer, removeTempDirs, testApp } from '../helpers/temp.ts';
import { envOf, resourceByPrefix } from '../helpers/template.ts';

afterAll(removeTempDirs);

const COLLECTOR_URL = 'https://collector.example.com';
const RUNTIMES = {
  Node: Runtime.NODEJS_22_X,
  Python: Runtime.PYTHON_3_13,
  Java: Runtime.JAVA_21,
  Provided: Runtime.PROVIDED_AL2023,
};
const ARCHITECTURES = { X86: Architecture.X86_64, Arm: Architecture.ARM_64 };

let codeDir: string | undefined;

/** A function of `runtime` on `architecture` (code from a directory: not every runtime takes inline code). */
function fn(stack: Stack, id: string, runtime: Runtime, architecture: Architecture) {
  codeDir ??= fixtureLayer();
  return new LambdaFunction(stack, id, {
    runtime,
    architecture,
    handler: 'index.handler',
    code: Code.fromAsset(codeDir),
  });
}

/** The logical id of the layer version named `name`. */
function layerNamed(template: Template, name: string): string {
  const ids = Object.entries(template.findResources('AWS::Lambda::LayerVersion'))
    .filter(([, layer]) => layer.Properties?.LayerName === name)
    .map(([id]) => id);
  expect(ids, name).toHaveLength(1);
  return ids[0]!;
}

describe('Lifeline on every runtime', () => {
  let template: Template;
  let annotations: Annotations;

  beforeAll(() => {
    const stack = new Stack(testApp(), 'Functions');
    for (const [name, runtime] of Object.entries(RUNTIMES))
      for (const [arch, architecture] of Object.entries(ARCHITECTURES))
        fn(stack, `${name}${arch}`, runtime, architecture);
    fn(stack, 'OldPython', Runtime.PYTHON_3_11, Architecture.ARM_64);
    fn(stack, 'ProvidedAl2', Runtime.PROVIDED_AL2, Architecture.X86_64);
    new DockerImageFunction(stack, 'Image', {
      architecture: Architecture.ARM_64,
      code: DockerImageCode.fromEcr(Repository.fromRepositoryName(stack, 'Repo', 'my-image')),
    });
    new Lifeline(stack, 'Lifeline', {
      collectorUrl: COLLECTOR_URL,
      token: LifelineToken.fromText('t'),
      layerDir: fixtureLayer(),
      universalLayerDirs: { x86_64: fixtureLayer(), arm64: fixtureLayer() },
    });
    template = Template.fromStack(stack);
    annotations = Annotations.fromStack(stack);
  });

  it('publishes the JS layer and one universal layer per architecture', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 3);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      LayerName: 'lifeline-universal-arm64',
      CompatibleArchitectures: ['arm64'],
      CompatibleRuntimes: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      LayerName: 'lifeline-universal-x86_64',
      CompatibleArchitectures: ['x86_64'],
    });
  });

  it.each([
    ['NodeX', 'lifeline'],
    ['NodeArm', 'lifeline'],
    ['PythonX', 'lifeline-universal-x86_64'],
    ['PythonArm', 'lifeline-universal-arm64'],
    ['JavaX', 'lifeline-universal-x86_64'],
    ['JavaArm', 'lifeline-universal-arm64'],
    ['ProvidedX', 'lifeline-universal-x86_64'],
    ['ProvidedArm', 'lifeline-universal-arm64'],
  ])('gives %s the layer %s and the collector URL', (id, layerName) => {
    const resource = resourceByPrefix(template, 'AWS::Lambda::Function', id);
    expect(resource.Properties?.Layers).toEqual([{ Ref: layerNamed(template, layerName) }]);
    expect(envOf(resource).LIFELINE_COLLECTOR_URL).toBe(COLLECTOR_URL);
    annotations.hasNoWarning(`/Functions/${id}`, Match.anyValue());
  });

  it.each([
    ['OldPython', /python3\.11 runs on Amazon Linux 2/],
    ['ProvidedAl2', /provided\.al2 runs on Amazon Linux 2/],
  ])('leaves %s (Amazon Linux 2) alone with a warning saying why', (id, why) => {
    const resource = resourceByPrefix(template, 'AWS::Lambda::Function', id);
    expect(resource.Properties?.Layers).toBeUndefined();
    annotations.hasWarning(`/Functions/${id}`, Match.stringLikeRegexp(why.source));
  });

  it('tells at synth time the Dockerfile lines a container image function needs', () => {
    const warnings = annotations.findWarning('/Functions/Image', Match.anyValue());
    expect(warnings).toHaveLength(1);
    const text = String(warnings[0]?.entry.data);
    expect(text).toContain('COPY layer-universal-arm64/ /opt/');
    expect(text).toContain(`ENV LIFELINE_COLLECTOR_URL=${COLLECTOR_URL}`);
  });
});

describe('Lifeline with published layers', () => {
  const JS_ARN = 'arn:aws:lambda:eu-west-1:123456789012:layer:lifeline:7';
  const ARM_ARN = 'arn:aws:lambda:eu-west-1:123456789012:layer:lifeline-universal-arm64:7';

  function synth(universal: boolean) {
    const stack = new Stack(testApp(), 'Published');
    fn(stack, 'PythonArm', Runtime.PYTHON_3_13, Architecture.ARM_64);
    fn(stack, 'PythonX', Runtime.PYTHON_3_13, Architecture.X86_64);
    fn(stack, 'Node', Runtime.NODEJS_24_X, Architecture.X86_64);
    new Lifeline(stack, 'Lifeline', {
      collectorUrl: COLLECTOR_URL,
      token: LifelineToken.fromText('t'),
      layerVersionArn: JS_ARN,
      ...(universal ? { universalLayerVersionArns: { arm64: ARM_ARN } } : {}),
    });
    return { template: Template.fromStack(stack), annotations: Annotations.fromStack(stack) };
  }

  it('attaches the universal layer given by ARN, and warns for an architecture without one', () => {
    const { template, annotations } = synth(true);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    expect(
      resourceByPrefix(template, 'AWS::Lambda::Function', 'PythonArm').Properties?.Layers,
    ).toEqual([ARM_ARN]);
    expect(resourceByPrefix(template, 'AWS::Lambda::Function', 'Node').Properties?.Layers).toEqual([
      JS_ARN,
    ]);
    expect(
      resourceByPrefix(template, 'AWS::Lambda::Function', 'PythonX').Properties?.Layers,
    ).toBeUndefined();
    annotations.hasWarning(
      '/Published/PythonX',
      Match.stringLikeRegexp('needs the universal layer for x86_64, and none was given'),
    );
  });

  it('leaves every non-Node.js function alone when only the JS layer is given', () => {
    const { template } = synth(false);
    for (const id of ['PythonArm', 'PythonX'])
      expect(
        resourceByPrefix(template, 'AWS::Lambda::Function', id).Properties?.Layers,
      ).toBeUndefined();
  });
});
