import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { collectorAppAsset, warnIfCollectorNotBuilt } from './collector-app-asset.ts';
import { type CollectorNodeMajor, DEFAULT_COLLECTOR_PORT } from './collector-service.ts';
import { REPO_ROOT } from './paths.ts';

/** Props of {@link CollectorCluster}. */
export interface CollectorClusterProps {
  /** ACM certificate of the HTTPS load balancer (required: ingest and dashboard cross the internet). */
  readonly certificate: ICertificate;
  /**
   * A VPC with public subnets (the load balancer), private subnets with egress (the collectors: packages, Secrets
   * Manager, S3) and isolated subnets (the database).
   * @default a new VPC in two AZs with one NAT gateway
   */
  readonly vpc?: ec2.IVpc;
  /** CIDRs allowed to reach the load balancer (HTTPS). @default ['0.0.0.0/0'] */
  readonly allowedCidrs?: readonly string[];
  /** Collector instances; any of them accepts ingest and serves the dashboard. @default 2 */
  readonly collectors?: number;
  /** @default t4g.small */
  readonly instanceType?: ec2.InstanceType;
  /** @default 22 */
  readonly nodeMajor?: CollectorNodeMajor;
  /** @default db.t4g.medium, PostgreSQL 16, Multi-AZ */
  readonly databaseInstanceType?: ec2.InstanceType;
  /** @default true */
  readonly multiAz?: boolean;
  /** What happens to the database when the stack is deleted. @default RemovalPolicy.SNAPSHOT */
  readonly databaseRemovalPolicy?: RemovalPolicy;
  /** Seconds an idle connection (a quiet live WebSocket between heartbeats) stays open at the ALB. @default 3600 */
  readonly idleTimeout?: Duration;
  /** The built repository (see CollectorService's appDir). @default this repository's root */
  readonly appDir?: string;
}

const DB_NAME = 'lifeline';
const DB_USER = 'lifeline';
const APP_DIR = '/opt/lifeline/app';
const SERVICE_NAME = 'lifeline-collector';

/**
 * The scale-out collector: several collector instances (an Auto Scaling group in private subnets) behind an HTTPS
 * Application Load Balancer with a WebSocket-friendly idle timeout, on one Amazon RDS for PostgreSQL database
 * (encrypted, Multi-AZ, isolated subnets, never public). The database credentials, the ingest token and the read
 * token are generated in Secrets Manager and read by each instance at every start; security groups open only
 * HTTPS → load balancer → collector port → PostgreSQL port. Any collector accepts ingest and serves the live stream:
 * they share the database, which orders the events and wakes the others (see ADR 9). The single instance with
 * SQLite ({@link CollectorService}) stays the default.
 */
export class CollectorCluster extends Construct {
  readonly vpc: ec2.IVpc;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly collectors: autoscaling.AutoScalingGroup;
  /** The collectors' instance role: the app asset, the three secrets, SSM. */
  readonly role: iam.Role;
  readonly database: rds.DatabaseInstance;
  /** Generated database credentials (`username`, `password`, `host`, `port`, `dbname`). */
  readonly databaseSecret: Secret | rds.DatabaseSecret;
  readonly tokenSecret: Secret;
  readonly readTokenSecret: Secret;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly collectorSecurityGroup: ec2.SecurityGroup;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** `https://<load balancer DNS name>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CollectorClusterProps) {
    super(scope, id);
    const port = DEFAULT_COLLECTOR_PORT;
    const collectors = props.collectors ?? 2;
    if (!Number.isInteger(collectors) || collectors < 1) {
      throw new Error(`CollectorCluster needs at least one collector, got ${collectors}`);
    }
    const appDir = props.appDir ?? REPO_ROOT;
    warnIfCollectorNotBuilt(this, appDir);

    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'collectors', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
          { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Lifeline load balancer: HTTPS in, the collector port out',
      allowAllOutbound: false,
    });
    this.collectorSecurityGroup = new ec2.SecurityGroup(this, 'CollectorSecurityGroup', {
      vpc: this.vpc,
      description:
        'Lifeline collectors: the collector port from the load balancer; HTTPS and PostgreSQL out',
      allowAllOutbound: false,
    });
    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: 'Lifeline database: PostgreSQL from the collectors only',
      allowAllOutbound: false,
    });
    for (const cidr of props.allowedCidrs ?? ['0.0.0.0/0']) {
      this.loadBalancerSecurityGroup.addIngressRule(
        cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(443),
        'HTTPS to the collectors',
      );
    }
    this.loadBalancerSecurityGroup.addEgressRule(
      this.collectorSecurityGroup,
      ec2.Port.tcp(port),
      'to the collectors',
    );
    this.collectorSecurityGroup.addIngressRule(
      this.loadBalancerSecurityGroup,
      ec2.Port.tcp(port),
      'from the load balancer',
    );
    // Packages (dnf, npm), S3, Secrets Manager, SSM and the RDS certificate bundle are all HTTPS.
    this.collectorSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS out');
    this.collectorSecurityGroup.addEgressRule(
      this.databaseSecurityGroup,
      ec2.Port.tcp(5432),
      'to PostgreSQL',
    );
    this.databaseSecurityGroup.addIngressRule(
      this.collectorSecurityGroup,
      ec2.Port.tcp(5432),
      'from the collectors',
    );

    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType:
        props.databaseInstanceType ??
        ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.databaseSecurityGroup],
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER),
      databaseName: DB_NAME,
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: props.multiAz ?? true,
      allocatedStorage: 50,
      maxAllocatedStorage: 1000,
      storageType: rds.StorageType.GP3,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: props.databaseRemovalPolicy ?? RemovalPolicy.SNAPSHOT,
      // Lifeline connects with TLS, verifying the RDS certificate (sslmode=verify-full).
      parameters: { 'rds.force_ssl': '1' },
    });
    const secret = this.database.secret;
    if (secret === undefined) throw new Error('the generated database secret is missing');
    this.databaseSecret = secret as rds.DatabaseSecret;

    this.tokenSecret = new Secret(this, 'IngestToken', {
      description: 'Lifeline collector ingest token (LIFELINE_TOKEN)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    this.readTokenSecret = new Secret(this, 'ReadToken', {
      description: 'Lifeline collector read token (LIFELINE_READ_TOKEN)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    const instanceType =
      props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
    const architecture =
      instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
    const userData = ec2.UserData.forLinux();
    this.role = new iam.Role(this, 'CollectorRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      // Shell access through SSM Session Manager; no SSH.
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const role = this.role;
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      machineImage: ec2.MachineImage.fromSsmParameter(
        `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`,
      ),
      securityGroup: this.collectorSecurityGroup,
      userData,
      requireImdsv2: true,
      role,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(16, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
    });
    this.collectors = new autoscaling.AutoScalingGroup(this, 'Collectors', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: collectors,
      maxCapacity: collectors,
      desiredCapacity: collectors,
      healthCheck: autoscaling.HealthCheck.elb({ grace: Duration.minutes(10) }),
      // A new app asset or launch template replaces instances one at a time behind the load balancer.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ maxBatchSize: 1 }),
    });

    const app = collectorAppAsset(this, appDir);
    app.grantRead(role);
    this.tokenSecret.grantRead(role);
    this.readTokenSecret.grantRead(role);
    this.databaseSecret.grantRead(role);

    const region = Stack.of(this).region;
    const node = `/usr/bin/node-${props.nodeMajor ?? 22}`;
    const npm = `/usr/bin/npm-${props.nodeMajor ?? 22}`;
    const secretValue = (arn: string, query = 'SecretString') =>
      `"$(aws secretsmanager get-secret-value --region ${region} --secret-id ${arn} --query ${query} --output text)"`;
    userData.addCommands('set -euo pipefail');
    const appZip = userData.addS3DownloadCommand({
      bucket: app.bucket,
      bucketKey: app.s3ObjectKey,
      localFile: '/opt/lifeline/app.zip',
      region,
    });
    userData.addCommands(
      `dnf install -y nodejs${props.nodeMajor ?? 22} nodejs${props.nodeMajor ?? 22}-npm unzip jq gcc-c++ make python3`,
      'id lifeline >/dev/null 2>&1 || useradd --system --home-dir /opt/lifeline --shell /sbin/nologin lifeline',
      `rm -rf ${APP_DIR} && mkdir -p ${APP_DIR} && unzip -q ${appZip} -d ${APP_DIR}`,
      `(cd ${APP_DIR} && ${npm} ci --omit=dev --workspace @lifeline/collector --no-audit --no-fund)`,
      '# The RDS certificate bundle, so the collector verifies the database it talks to.',
      `curl -fsS -o /opt/lifeline/rds-ca.pem https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`,
      '# Secrets are read from Secrets Manager at every start, so they never sit on disk.',
      "cat > /opt/lifeline/start.sh <<'START'",
      '#!/bin/bash',
      'set -euo pipefail',
      `LIFELINE_TOKEN=${secretValue(this.tokenSecret.secretArn)}`,
      `LIFELINE_READ_TOKEN=${secretValue(this.readTokenSecret.secretArn)}`,
      `db=${secretValue(this.databaseSecret.secretArn)}`,
      // node-postgres takes the password from PGPASSWORD, so it is not part of the URL (nor of any log line).
      'PGPASSWORD="$(jq -r .password <<<"$db")"',
      'LIFELINE_DB="postgres://$(jq -r .username <<<"$db")@$(jq -r .host <<<"$db"):$(jq -r .port <<<"$db")/$(jq -r .dbname <<<"$db")?sslmode=verify-full&sslrootcert=/opt/lifeline/rds-ca.pem"',
      'export LIFELINE_TOKEN LIFELINE_READ_TOKEN PGPASSWORD LIFELINE_DB',
      `exec ${node} ${APP_DIR}/collector/dist/server.js`,
      'START',
      'chmod 755 /opt/lifeline/start.sh',
      `cat > /etc/systemd/system/${SERVICE_NAME}.service <<'UNIT'`,
      '[Unit]',
      'Description=Lifeline collector',
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'User=lifeline',
      'Group=lifeline',
      'Environment=LIFELINE_HOST=0.0.0.0',
      `Environment=LIFELINE_PORT=${port}`,
      `WorkingDirectory=${APP_DIR}`,
      'ExecStart=/opt/lifeline/start.sh',
      'Restart=always',
      'RestartSec=2',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      'UNIT',
      'systemctl daemon-reload',
      `systemctl enable --now ${SERVICE_NAME}`,
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      securityGroup: this.loadBalancerSecurityGroup,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      // Live WebSockets are quiet between heartbeats (10 s); a long idle timeout never cuts them.
      idleTimeout: props.idleTimeout ?? Duration.seconds(3600),
      dropInvalidHeaderFields: true,
    });
    const listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    listener.addTargets('Collectors', {
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.collectors],
      healthCheck: { path: '/healthz', healthyHttpCodes: '200', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });
    this.url = `https://${this.loadBalancer.loadBalancerDnsName}`;
  }
}
