import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectorCluster } from '../../lib/collector-cluster.ts';
import { fixtureAppDir, removeTempDirs, testApp } from '../helpers/temp.ts';

afterAll(removeTempDirs);

const CERT_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

function synth(props: { collectors?: number; allowedCidrs?: string[] } = {}) {
  const stack = new Stack(testApp(), 'Cluster', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const cluster = new CollectorCluster(stack, 'Collector', {
    certificate: Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN),
    appDir: fixtureAppDir(),
    ...props,
  });
  return { template: Template.fromStack(stack), cluster, stack };
}

/** Ingress rules of the security group whose logical id starts with `prefix`, inline or standalone. */
function ingressOf(template: Template, groupId: string): Record<string, unknown>[] {
  const inline =
    (template.findResources('AWS::EC2::SecurityGroup')[groupId]?.Properties?.SecurityGroupIngress as
      | Record<string, unknown>[]
      | undefined) ?? [];
  const standalone = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
    .map((rule) => rule.Properties as Record<string, unknown>)
    .filter((rule) => JSON.stringify(rule.GroupId).includes(groupId));
  return [...inline, ...standalone];
}

function groupIdOf(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::EC2::SecurityGroup')).filter((id) =>
    id.startsWith(prefix),
  );
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('CollectorCluster', () => {
  it('keeps the database private and encrypted, with generated credentials in Secrets Manager', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      PubliclyAccessible: false,
      StorageEncrypted: true,
      MultiAZ: true,
      DeletionProtection: true,
      MasterUsername: Match.anyValue(),
      MasterUserPassword: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      TargetType: 'AWS::RDS::DBInstance',
    });
    // The database's subnets are the isolated ones (no route to the internet).
    const subnetGroup = Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0];
    const subnetIds = JSON.stringify(subnetGroup?.Properties?.SubnetIds);
    expect(subnetIds).toMatch(/databaseSubnet/);
    expect(subnetIds).not.toMatch(/publicSubnet|collectorsSubnet/);
  });

  it('opens only HTTPS → load balancer → collector port → PostgreSQL', () => {
    const { template } = synth({ allowedCidrs: ['203.0.113.0/24'] });
    const lb = groupIdOf(template, 'CollectorLoadBalancerSecurityGroup');
    const collectors = groupIdOf(template, 'CollectorCollectorSecurityGroup');
    const database = groupIdOf(template, 'CollectorDatabaseSecurityGroup');
    expect(ingressOf(template, lb)).toEqual([
      expect.objectContaining({ CidrIp: '203.0.113.0/24', FromPort: 443, ToPort: 443 }),
    ]);
    expect(ingressOf(template, collectors)).toEqual([
      expect.objectContaining({
        FromPort: 7460,
        ToPort: 7460,
        SourceSecurityGroupId: { 'Fn::GetAtt': [lb, 'GroupId'] },
      }),
    ]);
    expect(ingressOf(template, database)).toEqual([
      expect.objectContaining({
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { 'Fn::GetAtt': [collectors, 'GroupId'] },
      }),
    ]);
    // Nothing anywhere is open to the world except HTTPS on the load balancer (here a narrower CIDR).
    const everyRule = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
      (group) => (group.Properties?.SecurityGroupIngress as Record<string, unknown>[]) ?? [],
    );
    expect(everyRule.filter((rule) => rule.CidrIp === '0.0.0.0/0')).toEqual([]);
  });

  it('runs several collectors in private subnets behind an HTTPS load balancer with a long idle timeout', () => {
    const { template } = synth({ collectors: 3 });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '3',
      MaxSize: '3',
      HealthCheckType: 'ELB',
    });
    const group = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(JSON.stringify(group?.Properties?.VPCZoneIdentifier)).toMatch(/collectorsSubnet/);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '3600' },
      ]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERT_ARN }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 7460,
      HealthCheckPath: '/healthz',
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectLike({ HttpTokens: 'required' }),
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
      }),
    });
  });

  it('hands the collectors the database from Secrets Manager at start, never in the template', () => {
    const { template } = synth();
    const launch = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(launch).toContain('secretsmanager get-secret-value');
    expect(launch).toContain('PGPASSWORD');
    expect(launch).toContain('sslmode=verify-full');
    expect(launch).not.toMatch(/password["']?\s*:/i);
    // The instance role reads exactly the three secrets.
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    expect(policies).not.toContain('"Resource":"*"');
  });

  it('refuses a cluster without collectors', () => {
    expect(() => synth({ collectors: 0 })).toThrow(/at least one collector/);
  });
});
