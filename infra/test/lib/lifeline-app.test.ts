import { randomBytes } from 'node:crypto';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoStack } from '../../lib/demo-stack.ts';
import { addLifelineStacks, type LifelineStacks, STACK_NAMES } from '../../lib/lifeline-app.ts';
import { LifelineToken } from '../../lib/lifeline-token.ts';
import {
  assemblyJsonFiles,
  fixtureAppDir,
  fixtureLayer,
  removeTempDirs,
  testApp,
} from '../helpers/temp.ts';
import { envOf, resourceByPrefix } from '../helpers/template.ts';

afterAll(removeTempDirs);

/** Synthesizes with a token value present in the environment of the synthesizing process. */
function synthWithTokenInEnv(
  build: (app: App, token: string) => void,
): Map<string, string> & { token: string } {
  const token = randomBytes(24).toString('hex');
  const saved = process.env.LIFELINE_TOKEN;
  process.env.LIFELINE_TOKEN = token;
  try {
    const app = testApp();
    build(app, token);
    const files = assemblyJsonFiles(app.synth().directory);
    return Object.assign(files, { token });
  } finally {
    if (saved === undefined) delete process.env.LIFELINE_TOKEN;
    else process.env.LIFELINE_TOKEN = saved;
  }
}

describe('addLifelineStacks', () => {
  let stacks: LifelineStacks;
  let demo: Template;
  let files: Map<string, string> & { token: string };

  beforeAll(() => {
    // One synthesis serves every test here, with a token in the environment that must not leak into any file.
    files = synthWithTokenInEnv((app) => {
      stacks = addLifelineStacks(app, {
        layerDir: fixtureLayer(),
        collector: { appDir: fixtureAppDir() },
      });
    });
    demo = Template.fromStack(stacks.demo);
  });

  it('keeps the token out of every synthesized file when it comes from a secret', () => {
    expect(files.size).toBeGreaterThan(3);
    for (const [name, text] of files) {
      expect(text.includes(files.token), `${name} holds the token`).toBe(false);
    }
  });

  it('creates the collector, demo and layer stacks under their deploy names', () => {
    expect([stacks.collector, stacks.demo, stacks.layer].map((stack) => stack.stackName)).toEqual([
      STACK_NAMES.collector,
      STACK_NAMES.demo,
      STACK_NAMES.layer,
    ]);
  });

  it('points the demo functions at the collector and its generated token secret', () => {
    const env = envOf(resourceByPrefix(demo, 'AWS::Lambda::Function', 'Democrashy'));
    expect(JSON.stringify(env.LIFELINE_COLLECTOR_URL)).toMatch(
      /Fn::ImportValue.*LifelineCollector/,
    );
    expect(JSON.stringify(env.LIFELINE_TOKEN)).toMatch(
      /\{\{resolve:secretsmanager:.*Fn::ImportValue.*LifelineCollector.*IngestToken.*:SecretString:::\}\}/,
    );
  });

  it('outputs the standalone layer version ARN', () => {
    Template.fromStack(stacks.layer).hasOutput('LayerVersionArn', {});
  });
});

describe('token secrecy check', () => {
  it('finds the token when it is given in plain text (the check can see a leak)', () => {
    const files = synthWithTokenInEnv((app, token) => {
      new DemoStack(app, 'Leaky', {
        collectorUrl: 'https://collector.example.com',
        token: LifelineToken.fromText(token),
        layerDir: fixtureLayer(),
      });
    });
    expect([...files.values()].some((text) => text.includes(files.token))).toBe(true);
  });
});
