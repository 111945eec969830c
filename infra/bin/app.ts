import { App } from 'aws-cdk-lib';
import { addLifelineStacks } from '../lib/lifeline-app.ts';

// Every deploy-time choice comes from context (`cdk deploy -c lifeline:allowedCidrs=203.0.113.0/24`) or cdk.json.
const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(`lifeline:${key}`);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const flag = (key: string): boolean | undefined => {
  const value = context(key);
  return value === undefined ? undefined : value === 'true';
};

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const port = context('port');

addLifelineStacks(app, {
  env: account !== undefined && region !== undefined ? { account, region } : undefined,
  layerDir: context('layerDir'),
  shareLayerWith: context('shareLayerWith'),
  demoScheduled: flag('demoScheduled'),
  certificateArn: context('certificateArn'),
  collector: {
    allowedCidrs: context('allowedCidrs')
      ?.split(',')
      .map((cidr) => cidr.trim()),
    port: port === undefined ? undefined : Number(port),
    domainName: context('domainName'),
    readToken: flag('readToken'),
    insecurePlainHttpFromTheInternet: flag('insecurePlainHttpFromTheInternet'),
  },
});
