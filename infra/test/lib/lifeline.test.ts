import { join } from 'node:path';
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Repository } from 'aws-cdk-lib/aws-ecr';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  Code,
  DockerImageCode,
  DockerImageFunction,
  Function as LambdaFunction,
  LayerVersion,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lifeline } from '../../lib/lifeline.ts';
import { LifelineToken } from '../../lib/lifeline-token.ts';
import { REPO_ROOT } from '../../lib/paths.ts';
import { fixtureLayer, removeTempDirs, testApp } from '../helpers/temp.ts';
import { envOf, onlyLogicalId, resourceByPrefix } from '../helpers/template.ts';

afterAll(removeTempDirs);

const COLLECTOR_URL = 'https://collector.example.com';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** Every statement of every IAM policy in a template (the function role's inline grants). */
function policyStatements(template: Template): Record<string, unknown>[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy.Properties?.PolicyDocument?.Statement as Record<string, unknown>[] | undefined) ?? [],
  );
}

function nodeFunction(scope: Construct, id: string, runtime = Runtime.NODEJS_22_X): LambdaFunction {
  return new LambdaFunction(scope, id, {
    runtime,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({ ok: true });'),
  });
}

describe('Lifeline', () => {
  let layerDir: string;

  beforeAll(() => {
    layerDir = fixtureLayer();
  });

  describe('in a stack with many kinds of functions', () => {
    let annotations: Annotations;
    let template: Template;
    let nestedTemplate: Template;
    let layerId: string;

    beforeAll(() => {
      const app = testApp();
      const stack = new Stack(app, 'Functions');
      nodeFunction(stack, 'Plain');
      new NodejsFunction(stack, 'Bundled', {
        entry: join(import.meta.dirname, '..', 'fixtures', 'nodejs-function', 'handler.ts'),
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        bundling: { forceDockerBundling: false, minify: true },
      });
      new LambdaFunction(stack, 'Python', {
        runtime: Runtime.PYTHON_3_13,
        handler: 'index.handler',
        code: Code.fromInline('def handler(event, context):\n    return {}\n'),
      });
      new LambdaFunction(stack, 'Provided', {
        runtime: Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: Code.fromAsset(layerDir),
      });
      new DockerImageFunction(stack, 'Image', {
        code: DockerImageCode.fromEcr(Repository.fromRepositoryName(stack, 'Repo', 'my-image')),
      });
      nodeFunction(stack, 'Old', Runtime.NODEJS_18_X);
      nodeFunction(stack, 'Excluded');
      const nested = new NestedStack(stack, 'Nested');
      nodeFunction(nested, 'NestedFn');

      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromSecret(
          Secret.fromSecretNameV2(stack, 'Token', 'lifeline/ingest-token'),
        ),
        layerDir,
        logLevel: 'info',
        filter: (fn) => fn.node.id !== 'Excluded',
      });
      template = Template.fromStack(stack);
      nestedTemplate = Template.fromStack(nested);
      annotations = Annotations.fromStack(stack);
      layerId = onlyLogicalId(template, 'AWS::Lambda::LayerVersion');
    });

    it.each(['Plain', 'Bundled'])('attaches the layer and environment to %s', (id) => {
      const fn = resourceByPrefix(template, 'AWS::Lambda::Function', id);
      expect(fn.Properties?.Layers).toEqual([{ Ref: layerId }]);
      const env = envOf(fn);
      expect(env.LIFELINE_COLLECTOR_URL).toBe(COLLECTOR_URL);
      expect(env.LIFELINE_LOG_LEVEL).toBe('info');
      expect(JSON.stringify(env.LIFELINE_TOKEN)).toMatch(
        /\{\{resolve:secretsmanager:.*lifeline\/ingest-token.*:SecretString:::\}\}/,
      );
    });

    it('reaches functions in nested stacks through a stack parameter', () => {
      const fn = resourceByPrefix(nestedTemplate, 'AWS::Lambda::Function', 'NestedFn');
      const layers = fn.Properties?.Layers as { Ref: string }[] | undefined;
      expect(layers).toEqual([{ Ref: expect.stringMatching(/Lifeline/) }]);
      const parameter = String(layers?.[0]?.Ref);
      expect(envOf(fn).LIFELINE_COLLECTOR_URL).toBe(COLLECTOR_URL);
      expect(envOf(fn).LIFELINE_TOKEN).toBeDefined();
      template.hasResourceProperties('AWS::CloudFormation::Stack', {
        Parameters: Match.objectLike({
          [parameter]: { Ref: layerId },
        }),
      });
    });

    it.each(['Python', 'Provided', 'Image', 'Old'])(
      'leaves %s alone and warns at synth time',
      (id) => {
        const fn = resourceByPrefix(template, 'AWS::Lambda::Function', id);
        expect(fn.Properties?.Layers).toBeUndefined();
        expect(envOf(fn).LIFELINE_COLLECTOR_URL).toBeUndefined();
        annotations.hasWarning(
          `/Functions/${id}`,
          Match.stringLikeRegexp('Lifeline is not attached to this function'),
        );
      },
    );

    it('skips functions the filter rejects, without a warning', () => {
      const fn = resourceByPrefix(template, 'AWS::Lambda::Function', 'Excluded');
      expect(fn.Properties?.Layers).toBeUndefined();
      expect(envOf(fn)).toEqual({});
      annotations.hasNoWarning('/Functions/Excluded', Match.anyValue());
    });

    it('creates exactly one layer version for the whole stack', () => {
      template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
      nestedTemplate.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    });
  });

  describe('token sources', () => {
    function instrument(token: (stack: Stack) => LifelineToken): {
      stack: Stack;
      template: Template;
    } {
      const stack = new Stack(testApp(), 'Token');
      nodeFunction(stack, 'Fn');
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: token(stack),
        layerDir,
      });
      return { stack, template: Template.fromStack(stack) };
    }

    it('reads a JSON field of a secret when jsonField is given', () => {
      const { template } = instrument((stack) =>
        LifelineToken.fromSecret(Secret.fromSecretNameV2(stack, 'S', 'shared'), {
          jsonField: 'lifeline',
        }),
      );
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      expect(JSON.stringify(env.LIFELINE_TOKEN)).toMatch(/:SecretString:lifeline::\}\}/);
    });

    it('passes the secret ARN and grants only GetSecretValue on it when resolved at runtime', () => {
      const { stack, template } = instrument((stack) =>
        LifelineToken.fromSecret(new Secret(stack, 'S'), { resolution: 'runtime' }),
      );
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      const secretRef = { Ref: onlyLogicalId(template, 'AWS::SecretsManager::Secret') };
      expect(env.LIFELINE_TOKEN).toBeUndefined();
      expect(env.LIFELINE_TOKEN_SECRET_FIELD).toBeUndefined();
      expect(env.LIFELINE_TOKEN_SECRET_ARN).toEqual(secretRef);
      expect(policyStatements(template)).toEqual([
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: secretRef },
      ]);
      Annotations.fromStack(stack).hasNoInfo('*', Match.anyValue());
      Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    });

    it('passes the JSON field and matches the suffix of a secret known by name when resolved at runtime', () => {
      const { template } = instrument((stack) =>
        LifelineToken.fromSecret(Secret.fromSecretNameV2(stack, 'S', 'lifeline/ingest'), {
          resolution: 'runtime',
          jsonField: 'token',
        }),
      );
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      expect(env.LIFELINE_TOKEN_SECRET_FIELD).toBe('token');
      expect(JSON.stringify(env.LIFELINE_TOKEN_SECRET_ARN)).toMatch(/:secret:lifeline\/ingest"/);
      const [statement, ...others] = policyStatements(template);
      expect(others).toEqual([]);
      expect(statement?.Action).toBe('secretsmanager:GetSecretValue');
      expect(JSON.stringify(statement?.Resource)).toMatch(/:secret:lifeline\/ingest-\?\?\?\?\?\?"/);
    });

    it('grants kms:Decrypt through Secrets Manager when a customer key encrypts the secret', () => {
      const { template } = instrument((stack) =>
        LifelineToken.fromSecret(
          new Secret(stack, 'S', { encryptionKey: Key.fromKeyArn(stack, 'K', KEY_ARN) }),
          { resolution: 'runtime' },
        ),
      );
      expect(policyStatements(template)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Action: 'secretsmanager:GetSecretValue' }),
          expect.objectContaining({
            Action: 'kms:Decrypt',
            Resource: KEY_ARN,
            Condition: {
              StringEquals: {
                'kms:ViaService': {
                  'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
                },
              },
            },
          }),
        ]),
      );
      expect(policyStatements(template)).toHaveLength(2);
    });

    it('resolves an SSM String parameter through a template parameter', () => {
      const { template } = instrument((stack) =>
        LifelineToken.fromStringParameter(
          StringParameter.fromStringParameterName(stack, 'P', '/lifeline/token'),
        ),
      );
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      const ref = (env.LIFELINE_TOKEN as { Ref: string }).Ref;
      template.hasParameter(ref, {
        Type: 'AWS::SSM::Parameter::Value<String>',
        Default: '/lifeline/token',
      });
    });

    it('grants only ssm:GetParameter on a SecureString with the AWS-managed key', () => {
      const { stack, template } = instrument(() =>
        LifelineToken.fromSecureStringParameterName('/lifeline/token'),
      );
      const statements = policyStatements(template);
      expect(statements).toHaveLength(1);
      expect(statements[0]?.Action).toBe('ssm:GetParameter');
      Annotations.fromStack(stack).hasNoInfo('*', Match.anyValue());
    });

    it('grants kms:Decrypt through SSM when a customer key encrypts the SecureString', () => {
      const { template } = instrument((stack) =>
        LifelineToken.fromSecureStringParameterName('lifeline-token', {
          encryptionKey: Key.fromKeyArn(stack, 'K', KEY_ARN),
        }),
      );
      const statements = policyStatements(template);
      expect(statements).toHaveLength(2);
      expect(JSON.stringify(statements[0]?.Resource)).toMatch(/:parameter\/lifeline-token"/);
      expect(statements[1]).toEqual({
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: KEY_ARN,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      });
    });

    it('grants ssm:GetParameter on a shared SecureString given by ARN', () => {
      const arn = 'arn:aws:ssm:eu-west-1:210987654321:parameter/lifeline/token';
      const { template } = instrument(() => LifelineToken.fromSecureStringParameterName(arn));
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      expect(env.LIFELINE_TOKEN_SSM_PARAMETER).toBe(arn);
      expect(policyStatements(template)).toEqual([
        { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: arn },
      ]);
    });

    it('passes a SecureString name and grants ssm:GetParameter on it', () => {
      const { template } = instrument(() =>
        LifelineToken.fromSecureStringParameterName('/lifeline/token'),
      );
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      expect(env).toMatchObject({ LIFELINE_TOKEN_SSM_PARAMETER: '/lifeline/token' });
      expect(env.LIFELINE_TOKEN).toBeUndefined();
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'ssm:GetParameter',
              Resource: Match.objectLike({
                'Fn::Join': ['', Match.arrayWith([':parameter/lifeline/token'])],
              }),
            }),
          ]),
        },
      });
    });

    it('puts a text token in plain text and warns about it', () => {
      const { stack, template } = instrument(() => LifelineToken.fromText('demo-token-123'));
      const env = envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn'));
      expect(env.LIFELINE_TOKEN).toBe('demo-token-123');
      Annotations.fromStack(stack).hasWarning(
        '/Token/Lifeline',
        Match.stringLikeRegexp('plain text'),
      );
    });

    it('refuses an empty text token', () => {
      expect(() => LifelineToken.fromText('')).toThrow(/non-empty/);
    });
  });

  describe('layer sources and limits', () => {
    it('uses a published layer ARN without creating a layer', () => {
      const stack = new Stack(testApp(), 'Published');
      nodeFunction(stack, 'Fn');
      const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:lifeline:7';
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('t'),
        layerVersionArn: arn,
      });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
      template.hasResourceProperties('AWS::Lambda::Function', { Layers: [arn] });
    });

    it('uses a given layer', () => {
      const stack = new Stack(testApp(), 'Given');
      nodeFunction(stack, 'Fn');
      const layer = new LayerVersion(stack, 'Mine', { code: Code.fromAsset(layerDir) });
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('t'),
        layer,
      });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Layers: [{ Ref: onlyLogicalId(template, 'AWS::Lambda::LayerVersion') }],
      });
    });

    it('only instruments functions under the given scope', () => {
      const stack = new Stack(testApp(), 'Scoped');
      const inside = new Construct(stack, 'Inside');
      nodeFunction(inside, 'In');
      nodeFunction(stack, 'Out');
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('t'),
        layerDir,
        scope: inside,
      });
      const template = Template.fromStack(stack);
      expect(
        resourceByPrefix(template, 'AWS::Lambda::Function', 'InsideIn').Properties?.Layers,
      ).toHaveLength(1);
      expect(
        resourceByPrefix(template, 'AWS::Lambda::Function', 'Out').Properties?.Layers,
      ).toBeUndefined();
    });

    it('reaches functions of other stacks when scoped to the app', () => {
      const app = testApp();
      const home = new Stack(app, 'Home');
      const other = new Stack(app, 'Other');
      nodeFunction(other, 'Fn');
      new Lifeline(home, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('t'),
        layerDir,
        scope: app,
      });
      const fn = resourceByPrefix(Template.fromStack(other), 'AWS::Lambda::Function', 'Fn');
      expect(JSON.stringify(fn.Properties?.Layers)).toMatch(/Fn::ImportValue.*Home/);
      expect(envOf(fn).LIFELINE_COLLECTOR_URL).toBe(COLLECTOR_URL);
    });

    it('warns instead of failing when a function already has five layers', () => {
      const stack = new Stack(testApp(), 'Full');
      const fn = nodeFunction(stack, 'Fn');
      for (let n = 1; n <= 5; n++) {
        fn.addLayers(
          LayerVersion.fromLayerVersionArn(
            stack,
            `L${n}`,
            `arn:aws:lambda:eu-west-1:123456789012:layer:l${n}:1`,
          ),
        );
      }
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('t'),
        layerDir,
      });
      const template = Template.fromStack(stack);
      expect(
        resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn').Properties?.Layers,
      ).toHaveLength(5);
      expect(
        envOf(resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn')).LIFELINE_TOKEN,
      ).toBeUndefined();
      Annotations.fromStack(stack).hasWarning('/Full/Fn', Match.stringLikeRegexp('5 layers'));
    });

    it('drops trailing slashes from the collector URL', () => {
      const stack = new Stack(testApp(), 'Slash');
      nodeFunction(stack, 'Fn');
      new Lifeline(stack, 'Lifeline', {
        collectorUrl: `${COLLECTOR_URL}/`,
        token: LifelineToken.fromText('t'),
        layerDir,
      });
      const fn = resourceByPrefix(Template.fromStack(stack), 'AWS::Lambda::Function', 'Fn');
      expect(envOf(fn).LIFELINE_COLLECTOR_URL).toBe(COLLECTOR_URL);
    });

    it('applies only the first of two overlapping Lifelines, with a warning', () => {
      const stack = new Stack(testApp(), 'Twice');
      nodeFunction(stack, 'Fn');
      new Lifeline(stack, 'First', {
        collectorUrl: COLLECTOR_URL,
        token: LifelineToken.fromText('one'),
        layerDir,
      });
      new Lifeline(stack, 'Second', {
        collectorUrl: 'https://other.example.com',
        token: LifelineToken.fromText('two'),
        layerDir,
      });
      const template = Template.fromStack(stack);
      const fn = resourceByPrefix(template, 'AWS::Lambda::Function', 'Fn');
      expect(fn.Properties?.Layers).toHaveLength(1);
      expect(envOf(fn)).toMatchObject({
        LIFELINE_COLLECTOR_URL: COLLECTOR_URL,
        LIFELINE_TOKEN: 'one',
      });
      Annotations.fromStack(stack).hasWarning(
        '/Twice/Fn',
        Match.stringLikeRegexp('Two Lifeline constructs'),
      );
    });

    it('throws a sentence when two layer sources are given', () => {
      const stack = new Stack(testApp(), 'Both');
      expect(
        () =>
          new Lifeline(stack, 'Lifeline', {
            collectorUrl: COLLECTOR_URL,
            token: LifelineToken.fromText('t'),
            layerDir,
            layerVersionArn: 'arn:aws:lambda:eu-west-1:123456789012:layer:lifeline:1',
          }),
      ).toThrow(/one layer source, but got layerDir and layerVersionArn/);
    });

    it.each([
      ['collectorUrl', { collectorUrl: 'collector.example.com' }, /http:\/\/ or https:\/\/ URL/],
      ['layerVersionArn', { layerVersionArn: 'lifeline:3' }, /layer version ARN/],
      [
        'collectorUrl with credentials',
        { collectorUrl: 'https://u:p@c.example.com' },
        /credentials/,
      ],
    ])('throws a sentence for a malformed %s', (_name, override, message) => {
      const stack = new Stack(testApp(), 'Bad');
      expect(
        () =>
          new Lifeline(stack, 'Lifeline', {
            collectorUrl: COLLECTOR_URL,
            token: LifelineToken.fromText('t'),
            ...override,
          }),
      ).toThrow(message);
    });
  });
});
