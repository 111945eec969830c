import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { InstanceClass, InstanceSize, InstanceType } from 'aws-cdk-lib/aws-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CollectorService,
  type CollectorServiceProps,
  isPrivateCidr,
} from '../../lib/collector-service.ts';
import { CollectorStack } from '../../lib/collector-stack.ts';
import { fixtureAppDir, removeTempDirs, testApp } from '../helpers/temp.ts';
import { onlyLogicalId } from '../helpers/template.ts';

afterAll(removeTempDirs);

const CERT_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/** Every ingress rule of a template: inline on security groups and standalone. */
function ingressRules(template: Template): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  for (const sg of Object.values(template.findResources('AWS::EC2::SecurityGroup'))) {
    rules.push(...((sg.Properties?.SecurityGroupIngress as Record<string, unknown>[]) ?? []));
  }
  for (const rule of Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))) {
    rules.push(rule.Properties as Record<string, unknown>);
  }
  return rules;
}

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
function logicalIdByPrefix(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
  return ids[0] as string;
}

function userDataText(template: Template): string {
  const instance = Object.values(template.findResources('AWS::EC2::Instance'))[0];
  return JSON.stringify(instance?.Properties?.UserData);
}

describe('CollectorService', () => {
  describe('over plain HTTP to public CIDRs (no certificate, explicit opt-in)', () => {
    let stack: CollectorStack;
    let template: Template;
    let outdir: string;

    beforeAll(() => {
      const app = testApp();
      stack = new CollectorStack(app, 'Http', {
        collector: {
          appDir: fixtureAppDir(),
          allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'],
          insecurePlainHttpFromTheInternet: true,
        },
      });
      template = Template.fromStack(stack);
      outdir = app.synth().directory;
    });

    it('opens only the collector port, only to the allowed CIDRs', () => {
      const rules = ingressRules(template);
      expect(rules).toHaveLength(2);
      expect(rules).toContainEqual(
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 7460,
          ToPort: 7460,
          CidrIp: '203.0.113.0/24',
        }),
      );
      expect(rules).toContainEqual(
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 7460,
          ToPort: 7460,
          CidrIpv6: '2001:db8::/32',
        }),
      );
    });

    it('keeps SSH closed and allows only HTTPS out', () => {
      expect(ingressRules(template).some((rule) => rule.FromPort === 22)).toBe(false);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupEgress: [
          Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
        ],
      });
      const instance = Object.values(template.findResources('AWS::EC2::Instance'))[0];
      expect(instance?.Properties?.KeyName).toBeUndefined();
    });

    it('offers SSM Session Manager instead of SSH', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        ManagedPolicyArns: Match.arrayWith([
          Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])],
          }),
        ]),
      });
    });

    it('requires IMDSv2', () => {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
      });
    });

    it('keeps the database on an encrypted EBS volume that survives the stack as a snapshot', () => {
      template.hasResource('AWS::EC2::Volume', {
        Properties: { Encrypted: true, Size: 20, VolumeType: 'gp3' },
        DeletionPolicy: 'Snapshot',
      });
      const volumeId = onlyLogicalId(template, 'AWS::EC2::Volume');
      template.hasResourceProperties('AWS::EC2::Instance', {
        Volumes: [{ Device: '/dev/sdf', VolumeId: { Ref: volumeId } }],
      });
      template.resourceCountIs('AWS::EC2::VolumeAttachment', 0);
    });

    it('waits for the collector to answer before the instance counts as created', () => {
      template.hasResource('AWS::EC2::Instance', {
        CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT30M' } },
      });
      const text = userDataText(template);
      expect(text).toContain('/opt/aws/bin/cfn-signal');
      expect(text).toContain(`--resource ${onlyLogicalId(template, 'AWS::EC2::Instance')}`);
      expect(text).toContain('http://127.0.0.1:7460/healthz');
    });

    it('puts the volume in the same availability zone as the instance', () => {
      const volume = Object.values(template.findResources('AWS::EC2::Volume'))[0];
      const instance = Object.values(template.findResources('AWS::EC2::Instance'))[0];
      expect(volume?.Properties?.AvailabilityZone).toEqual(instance?.Properties?.AvailabilityZone);
    });

    it('generates the ingest token in Secrets Manager and lets the instance read it', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
      });
      const secretId = logicalIdByPrefix(
        template,
        'AWS::SecretsManager::Secret',
        'CollectorIngestToken',
      );
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
              Resource: { Ref: secretId },
            }),
          ]),
        },
      });
    });

    it('runs the collector with systemd on 0.0.0.0 with its token, data dir and database', () => {
      const text = userDataText(template);
      for (const expected of [
        'Environment=LIFELINE_HOST=0.0.0.0',
        'Environment=LIFELINE_PORT=7460',
        'Environment=LIFELINE_DATA_DIR=/var/lib/lifeline',
        'Environment=LIFELINE_DB=/var/lib/lifeline/lifeline.db',
        'secretsmanager get-secret-value',
        'export LIFELINE_TOKEN',
        'collector/dist/server.js',
        'systemctl enable lifeline-collector',
        'scripts-user, always',
      ]) {
        expect(text).toContain(expected);
      }
    });

    it('generates a read token by default, hands it to the collector and outputs its ARN', () => {
      const readId = logicalIdByPrefix(
        template,
        'AWS::SecretsManager::Secret',
        'CollectorReadToken',
      );
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Description: Match.stringLikeRegexp('LIFELINE_READ_TOKEN'),
        GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
              Resource: { Ref: readId },
            }),
          ]),
        },
      });
      template.hasOutput('ReadTokenSecretArn', { Value: { Ref: readId } });
      const text = userDataText(template);
      expect(text).toContain('export LIFELINE_READ_TOKEN');
      expect(text).toContain(`{"Ref":"${readId}"}`);
    });

    it('stops at the first failing setup step, the app download included', () => {
      const text = userDataText(template);
      const strict = text.indexOf('set -euo pipefail');
      expect(strict).toBeGreaterThan(-1);
      expect(strict).toBeLessThan(text.indexOf('aws s3 cp'));
      expect(text).toMatch(/aws s3 cp 's3:\/\/.*\/opt\/lifeline\/app\.zip' --region/);
    });

    it('resolves the latest Amazon Linux 2023 image at launch, for the Graviton default', () => {
      template.hasResourceProperties('AWS::EC2::Instance', {
        ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
        InstanceType: 't4g.small',
      });
    });

    it('ships the built repository without node_modules, tests or infra sources', () => {
      const zips = JSON.stringify(template.toJSON()).match(/[0-9a-f]{64}\.zip/g) ?? [];
      const staged = [...new Set(zips)]
        .map((zip) => join(outdir, `asset.${zip.replace('.zip', '')}`))
        .find((dir) => existsSync(join(dir, 'collector', 'dist', 'server.js')));
      expect(staged).toBeDefined();
      const dir = staged as string;
      for (const needed of [
        'package-lock.json',
        'protocol/dist/index.js',
        'collector/migrations/sqlite/001-init.sql',
        'collector/migrations/postgres/001-init.sql',
        'web/dist/index.html',
        'protocol/package.json',
        'collector/package.json',
      ]) {
        expect(existsSync(join(dir, needed)), needed).toBe(true);
      }
      expect(existsSync(join(dir, 'infra', 'package.json'))).toBe(true);
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
      expect(existsSync(join(dir, 'collector', 'test'))).toBe(false);
      expect(existsSync(join(dir, 'collector', 'src'))).toBe(false);
      expect(existsSync(join(dir, 'infra', 'lib'))).toBe(false);
      expect(existsSync(join(dir, 'infra', 'cdk.out'))).toBe(false);
    });

    it('outputs the dashboard, collector and ingest URLs on the Elastic IP', () => {
      const eip = onlyLogicalId(template, 'AWS::EC2::EIP');
      const url = { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [eip, 'PublicIp'] }, ':7460']] };
      template.hasOutput('CollectorUrl', { Value: url });
      template.hasOutput('DashboardUrl', {
        Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [eip, 'PublicIp'] }, ':7460/']] },
      });
      template.hasOutput('IngestUrl', {
        Value: {
          'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [eip, 'PublicIp'] }, ':7460/v1/events']],
        },
      });
      template.hasOutput('TokenSecretArn', {});
      template.hasOutput('InstanceId', {});
    });

    it('has no load balancer', () => {
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    });
  });

  describe('over HTTPS (certificate given)', () => {
    let template: Template;

    beforeAll(() => {
      const stack = new CollectorStack(testApp(), 'Https', {
        certificateArn: CERT_ARN,
        collector: {
          appDir: fixtureAppDir(),
          allowedCidrs: ['198.51.100.0/24'],
          domainName: 'lifeline.example.com',
          port: 8080,
          healthCheckPath: '/healthz',
          instanceType: InstanceType.of(InstanceClass.T3, InstanceSize.SMALL),
        },
      });
      template = Template.fromStack(stack);
    });

    it('picks the x86_64 image for an x86_64 instance type', () => {
      template.hasResourceProperties('AWS::EC2::Instance', {
        ImageId:
          'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
        InstanceType: 't3.small',
      });
    });

    it('terminates TLS on a load balancer listener on 443 with the certificate', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERT_ARN }],
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        DefaultActions: [
          Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443' }) }),
        ],
      });
    });

    it('keeps WebSockets open longer than the load balancer default', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'idle_timeout.timeout_seconds', Value: '3600' },
        ]),
      });
    });

    it('forwards to the collector port with the health check path', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 8080,
        Protocol: 'HTTP',
        TargetType: 'instance',
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200' },
      });
    });

    it('lets only the load balancer reach the instance, and only the allowed CIDRs reach the load balancer', () => {
      const rules = ingressRules(template);
      const fromCidrs = rules.filter((rule) => rule.CidrIp !== undefined);
      expect(fromCidrs.map((rule) => [rule.CidrIp, rule.FromPort]).sort()).toEqual([
        ['198.51.100.0/24', 443],
        ['198.51.100.0/24', 80],
      ]);
      const toInstance = rules.filter((rule) => rule.FromPort === 8080);
      expect(toInstance).toHaveLength(1);
      expect(toInstance[0]?.SourceSecurityGroupId).toBeDefined();
      expect(rules.some((rule) => rule.FromPort === 22)).toBe(false);
    });

    it('uses the domain name in the https URLs', () => {
      template.hasOutput('DashboardUrl', { Value: 'https://lifeline.example.com/' });
      template.hasOutput('CollectorUrl', { Value: 'https://lifeline.example.com' });
      template.hasOutput('IngestUrl', { Value: 'https://lifeline.example.com/v1/events' });
    });

    it('generates a read token too and hands it to the collector', () => {
      template.resourceCountIs('AWS::SecretsManager::Secret', 2);
      template.hasOutput('ReadTokenSecretArn', {});
      expect(userDataText(template)).toContain('export LIFELINE_READ_TOKEN');
      expect(userDataText(template)).toContain('Environment=LIFELINE_PORT=8080');
    });
  });

  describe('secure defaults', () => {
    const synth = (props: CollectorServiceProps, id = 'Defaults') => {
      const app = testApp();
      const stack = new CollectorStack(app, id, {
        collector: { appDir: fixtureAppDir(), ...props },
      });
      return { stack, template: Template.fromStack(stack) };
    };

    it('leaves the telemetry readable without a token only when readToken is false', () => {
      const { template } = synth({ readToken: false, allowedCidrs: ['10.0.0.0/8'] });
      template.resourceCountIs('AWS::SecretsManager::Secret', 1);
      expect(Object.keys(template.findOutputs('*'))).not.toContain('ReadTokenSecretArn');
      expect(userDataText(template)).not.toContain('LIFELINE_READ_TOKEN');
    });

    it('is private without a certificate: the port open to the VPC only, no public address, a private URL', () => {
      const { stack, template } = synth({});
      const rules = ingressRules(template);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ FromPort: 7460, ToPort: 7460 });
      expect(JSON.stringify(rules[0]?.CidrIp)).toContain('CidrBlock');
      template.resourceCountIs('AWS::EC2::EIP', 0);
      expect(JSON.stringify(stack.resolve(stack.collector.collectorUrl))).toContain('PrivateIp');
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('plain HTTP'));
    });

    it.each([
      ['0.0.0.0/0', ['0.0.0.0/0']],
      ['::/0', ['10.0.0.0/8', '::/0']],
      ['a public range', ['203.0.113.0/24']],
      ['a range wider than a private one', ['10.0.0.0/7']],
    ])('refuses plain HTTP to %s without the opt-in', (_name, allowedCidrs) => {
      expect(() => synth({ allowedCidrs })).toThrow(
        /would serve plain HTTP to .*unencrypted.*insecurePlainHttpFromTheInternet: true/,
      );
    });

    it.each([
      ['0.0.0.0/0', ['0.0.0.0/0']],
      ['::/0', ['203.0.113.0/24', '::/0']],
    ])(
      'serves plain HTTP to %s only with insecurePlainHttpFromTheInternet, and warns',
      (_name, allowedCidrs) => {
        const { stack, template } = synth({ allowedCidrs, insecurePlainHttpFromTheInternet: true });
        template.resourceCountIs('AWS::EC2::EIP', 1);
        Annotations.fromStack(stack).hasWarning(
          '/Defaults/Collector',
          Match.stringLikeRegexp(
            'insecurePlainHttpFromTheInternet.*plain HTTP.*clear text.*\\[ack: lifeline:plainHttpOpen\\]',
          ),
        );
      },
    );

    it('refuses the opt-in next to a certificate, which serves HTTPS anyway', () => {
      const app = testApp();
      expect(
        () =>
          new CollectorStack(app, 'Both', {
            certificateArn: CERT_ARN,
            collector: { appDir: fixtureAppDir(), insecurePlainHttpFromTheInternet: true },
          }),
      ).toThrow(/drop insecurePlainHttpFromTheInternet/);
    });

    it('tells private CIDRs from public ones', () => {
      for (const cidr of [
        '10.1.0.0/16',
        '172.31.0.0/16',
        '192.168.1.0/24',
        '100.64.0.0/10',
        'fd00::/8',
      ]) {
        expect(isPrivateCidr(cidr), cidr).toBe(true);
      }
      for (const cidr of [
        '0.0.0.0/0',
        '10.0.0.0/7',
        '172.32.0.0/16',
        '203.0.113.0/24',
        '::/0',
        '2001:db8::/32',
      ]) {
        expect(isPrivateCidr(cidr), cidr).toBe(false);
      }
    });

    it('warns that anyone can read the telemetry when readToken is false and the collector is open', () => {
      const app = testApp();
      const stack = new CollectorStack(app, 'OpenTelemetry', {
        certificateArn: CERT_ARN,
        collector: { appDir: fixtureAppDir(), readToken: false },
      });
      Annotations.fromStack(stack).hasWarning(
        '/OpenTelemetry/Collector',
        Match.stringLikeRegexp('anyone can read the telemetry.*lifeline:telemetryPublic'),
      );
    });

    it('does not warn about public telemetry when readToken is false behind narrow CIDRs', () => {
      const { stack } = synth({ readToken: false, allowedCidrs: ['10.0.0.0/8'] });
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('telemetry'));
    });

    it('does not warn about public telemetry with the default read token', () => {
      const { stack } = synth({});
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('telemetry'));
    });

    it('does not warn about clear-text tokens when the allowed CIDRs are private', () => {
      const { stack } = synth({ allowedCidrs: ['10.0.0.0/8'] });
      Annotations.fromStack(stack).hasNoWarning(
        '/Defaults/Collector',
        Match.stringLikeRegexp('plain HTTP'),
      );
    });

    it('does not warn about clear-text tokens behind the HTTPS load balancer', () => {
      const app = testApp();
      const stack = new CollectorStack(app, 'Tls', {
        certificateArn: CERT_ARN,
        collector: { appDir: fixtureAppDir(), allowedCidrs: ['0.0.0.0/0'] },
      });
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('plain HTTP'));
    });
  });

  describe('validation', () => {
    const build = (props: CollectorServiceProps) => () =>
      new CollectorService(new Stack(testApp(), 'Invalid'), 'Collector', {
        appDir: fixtureAppDir(),
        ...props,
      });

    it.each([
      ['a privileged port', { port: 80 }, /1024 to 65535/],
      ['a fractional port', { port: 7460.5 }, /integer/],
      ['no CIDRs', { allowedCidrs: [] }, /at least one entry in allowedCidrs/],
      ['a malformed CIDR', { allowedCidrs: ['10.0.0.0'] }, /CIDR blocks like/],
      [
        'a health check without a load balancer',
        { healthCheckPath: '/healthz' },
        /only with a load balancer/,
      ],
    ])('throws a sentence for %s', (_name, props, message) => {
      expect(build(props as CollectorServiceProps)).toThrow(message);
    });

    it('throws a sentence for a relative health check path', () => {
      const stack = new Stack(testApp(), 'Relative');
      const certificate = Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN);
      expect(
        () =>
          new CollectorService(stack, 'Collector', {
            appDir: fixtureAppDir(),
            certificate,
            healthCheckPath: 'healthz',
          }),
      ).toThrow(/must start with "\/"/);
    });

    it('throws when the stack gets two certificates', () => {
      const app = testApp();
      const other = new Stack(app, 'Other');
      const certificate = Certificate.fromCertificateArn(other, 'Cert', CERT_ARN);
      expect(
        () =>
          new CollectorStack(app, 'Twice', {
            certificateArn: CERT_ARN,
            collector: { appDir: fixtureAppDir(), certificate },
          }),
      ).toThrow(/certificateArn or collector.certificate, not both/);
    });

    it('warns at synth time when the collector is not built', () => {
      const stack = new Stack(testApp(), 'Unbuilt');
      new CollectorService(stack, 'Collector', { appDir: fixtureAppDir({ built: false }) });
      Annotations.fromStack(stack).hasWarning(
        '/Unbuilt/Collector',
        Match.stringLikeRegexp('collector/dist/server.js.*npm run build'),
      );
    });

    it('names every missing part of the app in the synth warning', () => {
      const stack = new Stack(testApp(), 'Partial');
      const appDir = fixtureAppDir();
      rmSync(join(appDir, 'web', 'dist'), { recursive: true });
      rmSync(join(appDir, 'collector', 'migrations'), { recursive: true });
      new CollectorService(stack, 'Collector', { appDir });
      Annotations.fromStack(stack).hasWarning(
        '/Partial/Collector',
        Match.stringLikeRegexp(
          'lacks collector/migrations/sqlite .*, collector/migrations/postgres .*, web/dist/index.html .*lifeline:collectorNotBuilt',
        ),
      );
    });

    it('does not warn when the app is complete', () => {
      const stack = new Stack(testApp(), 'Complete');
      new CollectorService(stack, 'Collector', { appDir: fixtureAppDir() });
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('npm run build'));
    });
  });
});
