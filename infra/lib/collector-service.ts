import {
  Annotations,
  Duration,
  Fn,
  RemovalPolicy,
  Size,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { InstanceTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { collectorAppAsset, warnIfCollectorNotBuilt } from './collector-app-asset.ts';
import { collectorSetupScript } from './collector-setup-script.ts';
import { REPO_ROOT } from './paths.ts';

/** The collector's default port (`LIFELINE_PORT`). */
export const DEFAULT_COLLECTOR_PORT = 7460;

/** Node.js majors packaged by Amazon Linux 2023 that the collector runs on. */
export type CollectorNodeMajor = 20 | 22 | 24;

/** Props of {@link CollectorService}. */
export interface CollectorServiceProps {
  /** @default a new VPC with public subnets in two AZs and no NAT gateway */
  readonly vpc?: ec2.IVpc;
  /**
   * CIDRs allowed to reach the collector (ingest and dashboard share one port). Lambda functions outside a VPC send
   * from AWS public addresses, so ingest usually needs `0.0.0.0/0` (with a certificate; the tokens protect it).
   * Without a certificate only private CIDRs are accepted (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 or the
   * VPC's), unless {@link insecurePlainHttpFromTheInternet} is set.
   * @default ['0.0.0.0/0'] with a certificate (HTTPS); the VPC's CIDR without one (private: functions in the VPC,
   * the dashboard through an SSM port forward)
   */
  readonly allowedCidrs?: readonly string[];
  /**
   * Serve plain HTTP to public CIDRs although no certificate is given: the ingest token, the read token and the
   * telemetry then cross the internet unencrypted, readable and replayable by anyone on the path. Only for a
   * throw-away trial; a synth-time warning repeats this.
   * @default false
   */
  readonly insecurePlainHttpFromTheInternet?: boolean;
  /** Port the collector listens on. @default 7460 */
  readonly port?: number;
  /**
   * An ACM certificate: the collector is then served by an Application Load Balancer over HTTPS (443, with 80
   * redirecting). Without it, the instance serves plain HTTP on `port`, to private CIDRs only by default (its
   * private IP), or from an Elastic IP with {@link insecurePlainHttpFromTheInternet}.
   */
  readonly certificate?: ICertificate;
  /** The DNS name you point at the collector (used in the URLs). @default the load balancer's DNS name or the IP */
  readonly domainName?: string;
  /** @default t4g.small (Graviton) */
  readonly instanceType?: ec2.InstanceType;
  /** @default 22 */
  readonly nodeMajor?: CollectorNodeMajor;
  /** Size of the EBS volume holding the SQLite database. @default 20 GiB */
  readonly dataVolumeSize?: Size;
  /** What happens to the data volume when the stack is deleted. @default RemovalPolicy.SNAPSHOT */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /**
   * Protect the dashboard's data (query API and live stream) with a read token generated in Secrets Manager and
   * handed to the collector as `LIFELINE_READ_TOKEN`; the dashboard asks for it. Pass `false` to leave the telemetry
   * readable by anyone who can reach the collector (only sensible behind a private network).
   * @default true
   */
  readonly readToken?: boolean;
  /**
   * The built repository to ship to the instance (`protocol/dist`, `collector/dist`, `collector/migrations`,
   * `web/dist`, the workspace package.json files and the lockfile).
   * @default this repository's root (run `npm run build` first)
   */
  readonly appDir?: string;
  /** Load balancer health check path; it must answer 200 without a token. @default '/healthz' */
  readonly healthCheckPath?: string;
}

const DATA_DEVICE = '/dev/sdf';

/**
 * A deployable Lifeline collector: one EC2 instance (Amazon Linux 2023, systemd) keeping its SQLite file on a
 * separate encrypted EBS volume, an ingest token generated in Secrets Manager, no SSH (use SSM Session Manager), and
 * optionally an Application Load Balancer with HTTPS. WebSockets work on both paths.
 */
export class CollectorService extends Construct {
  /** The collector's base URL: the value for `LIFELINE_COLLECTOR_URL`. */
  readonly collectorUrl: string;
  /** The dashboard's URL. */
  readonly dashboardUrl: string;
  /** Where the extension posts batches. */
  readonly ingestUrl: string;
  /** The generated ingest token (`LIFELINE_TOKEN`). */
  readonly tokenSecret: Secret;
  /** The generated read token (`LIFELINE_READ_TOKEN`), unless `readToken` is false. */
  readonly readTokenSecret?: Secret;
  /** The instance running the collector (shell access through SSM Session Manager). */
  readonly instance: ec2.Instance;
  /** The EBS volume holding the SQLite database, mounted at `/var/lib/lifeline`. */
  readonly dataVolume: ec2.Volume;
  /** The instance's security group: the collector port in (from `allowedCidrs` or the load balancer), HTTPS out. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The HTTPS load balancer, when a certificate was given. */
  readonly loadBalancer?: elbv2.ApplicationLoadBalancer;
  /** The VPC the collector runs in. */
  readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: CollectorServiceProps = {}) {
    super(scope, id);
    const port = props.port ?? DEFAULT_COLLECTOR_PORT;
    validateProps(props, port, props.allowedCidrs ?? []);

    const appDir = props.appDir ?? REPO_ROOT;
    warnIfCollectorNotBuilt(this, appDir);

    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      });
    const subnet = this.vpc.publicSubnets[0];
    if (subnet === undefined) {
      throw new Error('CollectorService needs a VPC with at least one public subnet.');
    }
    const allowedCidrs =
      props.allowedCidrs ??
      (props.certificate === undefined ? [this.vpc.vpcCidrBlock] : ['0.0.0.0/0']);
    const publicHttpCidrs =
      props.certificate === undefined
        ? allowedCidrs.filter((cidr) => cidr !== this.vpc.vpcCidrBlock && !isPrivateCidr(cidr))
        : [];
    if (publicHttpCidrs.length > 0 && props.insecurePlainHttpFromTheInternet !== true) {
      const shown = publicHttpCidrs.map((cidr) =>
        Token.isUnresolved(cidr) ? 'an unresolved token' : cidr,
      );
      throw new Error(
        `CollectorService would serve plain HTTP to ${shown.join(', ')}: its tokens and telemetry would cross the internet unencrypted. Pass a certificate (HTTPS load balancer), keep allowedCidrs private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7 or the VPC's CIDR), or set insecurePlainHttpFromTheInternet: true for a throw-away trial.`,
      );
    }

    this.tokenSecret = new Secret(this, 'IngestToken', {
      description: 'Lifeline collector ingest token (LIFELINE_TOKEN)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    if (props.readToken !== false) {
      this.readTokenSecret = new Secret(this, 'ReadToken', {
        description: 'Lifeline collector read token (LIFELINE_READ_TOKEN)',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'Lifeline collector instance: collector port only, HTTPS out',
      allowAllOutbound: false,
    });
    // Packages (dnf, npm), S3, Secrets Manager and SSM are all HTTPS.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS out');

    const instanceType =
      props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
    const amiArchitecture =
      instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';

    const shell = ec2.UserData.forLinux();
    const userData = new ec2.MultipartUserData();
    // Run the (idempotent) setup on every boot: CloudFormation stops and starts the instance when the user data
    // changes, e.g. for a new app asset, and that must redeploy the collector.
    userData.addPart(
      ec2.MultipartBody.fromRawBody({
        contentType: 'text/cloud-config; charset="utf-8"',
        body: '#cloud-config\ncloud_final_modules:\n  - [scripts-user, always]\n',
      }),
    );
    userData.addUserDataPart(shell, ec2.MultipartBody.SHELL_SCRIPT, true);

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: this.vpc,
      vpcSubnets: { subnets: [subnet] },
      instanceType,
      // Resolved when the instance launches, so a new AL2023 release does not replace the instance on the next
      // deploy (a replacement could not take over the data volume while the old instance still holds it).
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(
        `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${amiArchitecture}`,
        { os: ec2.OperatingSystemType.LINUX },
      ),
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      ssmSessionPermissions: true,
      associatePublicIpAddress: true,
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

    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason:
        'EC2 resolves resolve:ssm: image ids at launch; the validator only knows literal AMI ids.',
    });

    this.dataVolume = new ec2.Volume(this, 'Data', {
      availabilityZone: subnet.availabilityZone,
      size: props.dataVolumeSize ?? Size.gibibytes(20),
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      encrypted: true,
      removalPolicy: props.dataRemovalPolicy ?? RemovalPolicy.SNAPSHOT,
    });
    // Attached as part of the instance (not a separate VolumeAttachment, which CloudFormation would only create after
    // the instance completes, while the instance waits for its setup, which waits for the volume).
    this.instance.instance.volumes = [{ device: DATA_DEVICE, volumeId: this.dataVolume.volumeId }];
    this.instance.instance.cfnOptions.creationPolicy = {
      resourceSignal: { count: 1, timeout: 'PT30M' },
    };

    const app = collectorAppAsset(this, appDir);
    app.grantRead(this.instance.role);
    this.tokenSecret.grantRead(this.instance.role);
    this.readTokenSecret?.grantRead(this.instance.role);

    shell.addCommands('set -euo pipefail');
    const appZipPath = shell.addS3DownloadCommand({
      bucket: app.bucket,
      bucketKey: app.s3ObjectKey,
      localFile: '/opt/lifeline/app.zip',
      region: Stack.of(this).region,
    });
    shell.addCommands(
      ...collectorSetupScript({
        volumeId: this.dataVolume.volumeId,
        volumeSerial: Fn.join('', Fn.split('-', this.dataVolume.volumeId)),
        deviceName: DATA_DEVICE,
        region: Stack.of(this).region,
        tokenSecretArn: this.tokenSecret.secretArn,
        readTokenSecretArn: this.readTokenSecret?.secretArn,
        port,
        appZipPath,
        nodeMajor: props.nodeMajor ?? 22,
        signal: {
          stackName: Stack.of(this).stackName,
          resource: Stack.of(this).getLogicalId(this.instance.instance),
        },
      }),
    );

    const open = allowedCidrs.filter((cidr) => cidr === '0.0.0.0/0' || cidr === '::/0');
    if (this.readTokenSecret === undefined && open.length > 0) {
      Annotations.of(this).addWarningV2(
        'lifeline:telemetryPublic',
        `readToken is false and the collector is reachable from ${open.join(' and ')}: anyone can read the telemetry (function names, timings, errors). Keep the read token, or narrow allowedCidrs.`,
      );
    }
    let host: string;
    if (props.certificate === undefined) {
      for (const cidr of allowedCidrs) {
        this.securityGroup.addIngressRule(peerOf(cidr), ec2.Port.tcp(port), 'Lifeline collector');
      }
      if (publicHttpCidrs.length > 0) {
        Annotations.of(this).addWarningV2(
          'lifeline:plainHttpOpen',
          `insecurePlainHttpFromTheInternet: the collector is reachable from ${publicHttpCidrs.join(' and ')} over plain HTTP, so its tokens and telemetry cross the internet in clear text: pass a certificate (HTTPS load balancer) or keep allowedCidrs private.`,
        );
        const ip = new ec2.CfnEIP(this, 'Address', {
          domain: 'vpc',
          instanceId: this.instance.instanceId,
        });
        host = `${props.domainName ?? ip.attrPublicIp}:${port}`;
      } else {
        // Private: reachable from inside the VPC (or peered networks) at its private address only.
        host = `${props.domainName ?? this.instance.instancePrivateIp}:${port}`;
      }
      this.collectorUrl = `http://${host}`;
    } else {
      const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
        vpc: this.vpc,
        description: 'Lifeline collector load balancer: HTTPS (and HTTP redirect) in',
        allowAllOutbound: false,
      });
      for (const cidr of allowedCidrs) {
        albSecurityGroup.addIngressRule(peerOf(cidr), ec2.Port.tcp(443), 'HTTPS');
        albSecurityGroup.addIngressRule(peerOf(cidr), ec2.Port.tcp(80), 'HTTP redirect');
      }
      const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
        vpc: this.vpc,
        internetFacing: true,
        securityGroup: albSecurityGroup,
        // Live dashboards keep a WebSocket open; the default 60 s would cut idle ones.
        idleTimeout: Duration.hours(1),
        dropInvalidHeaderFields: true,
      });
      const https = alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [props.certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
      });
      https.addTargets('Collector', {
        port,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targets: [new InstanceTarget(this.instance, port)],
        healthCheck: {
          path: props.healthCheckPath ?? '/healthz',
          healthyHttpCodes: '200',
          interval: Duration.seconds(30),
        },
        deregistrationDelay: Duration.seconds(10),
      });
      alb.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
      this.instance.connections.allowFrom(alb, ec2.Port.tcp(port), 'From the load balancer');
      this.loadBalancer = alb;
      host = props.domainName ?? alb.loadBalancerDnsName;
      this.collectorUrl = `https://${host}`;
    }
    this.dashboardUrl = `${this.collectorUrl}/`;
    this.ingestUrl = `${this.collectorUrl}/v1/events`;
  }
}

/** Private IPv4 ranges (RFC 1918 and the shared 100.64/10), as [first address, prefix length]. */
const PRIVATE_IPV4: readonly [number, number][] = [
  [ipv4ToNumber('10.0.0.0'), 8],
  [ipv4ToNumber('172.16.0.0'), 12],
  [ipv4ToNumber('192.168.0.0'), 16],
  [ipv4ToNumber('100.64.0.0'), 10],
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Whether every address of `cidr` is private (not routable on the internet); false for an unresolved token. */
export function isPrivateCidr(cidr: string): boolean {
  if (Token.isUnresolved(cidr)) return false;
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  if (IPV4_CIDR.test(cidr)) {
    const value = ipv4ToNumber(address);
    return PRIVATE_IPV4.some(
      ([first, length]) =>
        prefix >= length &&
        Math.floor(value / 2 ** (32 - length)) === Math.floor(first / 2 ** (32 - length)),
    );
  }
  // fc00::/7, unique local addresses.
  return IPV6_CIDR.test(cidr) && prefix >= 7 && /^f[cd]/i.test(address);
}

function peerOf(cidr: string): ec2.IPeer {
  return cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

function validateProps(props: CollectorServiceProps, port: number, cidrs: readonly string[]): void {
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(
      `CollectorService's port must be an integer from 1024 to 65535 (the collector does not run as root), but got ${port}.`,
    );
  }
  if (props.allowedCidrs !== undefined && cidrs.length === 0) {
    throw new Error(
      'CollectorService needs at least one entry in allowedCidrs, otherwise nothing could reach the collector.',
    );
  }
  for (const cidr of cidrs) {
    if (!Token.isUnresolved(cidr) && !IPV4_CIDR.test(cidr) && !IPV6_CIDR.test(cidr)) {
      throw new Error(
        `CollectorService's allowedCidrs must be CIDR blocks like 203.0.113.0/24, but got "${cidr}".`,
      );
    }
  }
  if (props.insecurePlainHttpFromTheInternet === true && props.certificate !== undefined) {
    throw new Error(
      'CollectorService serves HTTPS when given a certificate: drop insecurePlainHttpFromTheInternet.',
    );
  }
  if (props.healthCheckPath !== undefined && props.certificate === undefined) {
    throw new Error(
      'CollectorService uses healthCheckPath only with a load balancer: pass certificate too, or drop healthCheckPath.',
    );
  }
  if (props.healthCheckPath !== undefined && !props.healthCheckPath.startsWith('/')) {
    throw new Error(
      `CollectorService's healthCheckPath must start with "/", but got "${props.healthCheckPath}".`,
    );
  }
}
