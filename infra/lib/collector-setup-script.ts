/** Where the collector keeps its SQLite file on the instance (the mounted data volume). */
export const DATA_DIR = '/var/lib/lifeline';
/** Where the collector's code is unpacked on the instance. */
export const APP_DIR = '/opt/lifeline/app';
/** The systemd unit running the collector. */
export const SERVICE_NAME = 'lifeline-collector';

/** Inputs of {@link collectorSetupScript}; values may be CloudFormation tokens. */
export interface CollectorSetupOptions {
  /** EBS volume id of the data volume (`vol-…`), as a token or literal. */
  readonly volumeId: string;
  /** The id without its dash (`vol0123…`): Nitro instances expose it as the NVMe serial. */
  readonly volumeSerial: string;
  /** Linux device name the volume is attached as (`/dev/sdf`); older (Xen) instances show it as `/dev/xvdf`. */
  readonly deviceName: string;
  readonly region: string;
  readonly tokenSecretArn: string;
  readonly readTokenSecretArn?: string;
  readonly port: number;
  /** Local path of the downloaded app zip (from `UserData.addS3DownloadCommand`). */
  readonly appZipPath: string;
  /** Node.js major version installed from the Amazon Linux 2023 repositories (`nodejs<major>`). */
  readonly nodeMajor: number;
  /** Report success or failure to this resource's CloudFormation creation policy. */
  readonly signal?: { readonly stackName: string; readonly resource: string };
}

/**
 * Shell lines that give `$device` an XFS file system only when it has none, and set `$uuid` to its file system's UUID.
 * `blkid -p` exits with 2 when it finds no signature on the device (or cannot open it, hence the block-device and read
 * checks); any other outcome (an I/O error, an ambivalent probe) stops the setup instead of formatting a volume that
 * may hold the database. Expects a `signal` function.
 */
export function formatDataVolumeLines(): string[] {
  const fail = (why: string) => `echo "lifeline: ${why}" >&2; signal 1; exit 1`;
  return [
    'probe=0',
    'blkid -p "$device" >/dev/null 2>&1 || probe=$?',
    'if [ "$probe" -eq 2 ]; then',
    `  if [ ! -b "$device" ]; then ${fail('$device is not a block device; not formatting it')}; fi`,
    // blkid also says 2 when it cannot open the device: make sure it reads before wiping it.
    `  if ! dd if="$device" of=/dev/null bs=4096 count=1 status=none; then ${fail('cannot read $device; not formatting it')}; fi`,
    '  echo "lifeline: $device has no file system, formatting it"',
    '  mkfs -t xfs "$device"',
    'elif [ "$probe" -ne 0 ]; then',
    `  ${fail('cannot tell whether $device holds a file system (blkid exit $probe); not formatting it')}`,
    'fi',
    'uuid="$(blkid -p -s UUID -o value "$device" || true)"',
    `if [ -z "$uuid" ]; then ${fail('$device has no file system UUID; not mounting it')}; fi`,
  ];
}

/**
 * Shell lines that turn a fresh Amazon Linux 2023 instance into a Lifeline collector, to run after `set -euo pipefail`
 * and the download of the app zip. Idempotent, so it can run on every boot: it formats the data volume only when it
 * has no file system and replaces the app with the downloaded one only once that one installed.
 */
export function collectorSetupScript(o: CollectorSetupOptions): string[] {
  const node = `/usr/bin/node-${o.nodeMajor}`;
  const npm = `/usr/bin/npm-${o.nodeMajor}`;
  const xenDevice = o.deviceName.replace('/dev/sd', '/dev/xvd');
  const readTokenLines =
    o.readTokenSecretArn === undefined
      ? []
      : [
          `LIFELINE_READ_TOKEN="$(aws secretsmanager get-secret-value --region ${o.region} --secret-id ${o.readTokenSecretArn} --query SecretString --output text)"`,
          'export LIFELINE_READ_TOKEN',
        ];
  const signal =
    o.signal === undefined
      ? ['signal() { :; }']
      : [
          // Tells CloudFormation whether the collector came up, so a broken setup fails the deploy instead of
          // leaving a silent instance; on later boots the resource is complete and the signal is refused, harmlessly.
          'signal() {',
          `  [ -x /opt/aws/bin/cfn-signal ] && /opt/aws/bin/cfn-signal --exit-code "$1" --stack ${o.signal.stackName} --resource ${o.signal.resource} --region ${o.region} || true`,
          '}',
        ];
  return [
    ...signal,
    "trap 'signal 1' ERR",
    // The compiler, make and python3 let npm build better-sqlite3 from source (node-gyp) when no prebuilt binary
    // matches this Node.js and architecture.
    `dnf install -y nodejs${o.nodeMajor} nodejs${o.nodeMajor}-npm unzip gcc-c++ make python3${o.signal === undefined ? '' : ' aws-cfn-bootstrap'}`,
    `id lifeline >/dev/null 2>&1 || useradd --system --home-dir ${DATA_DIR} --shell /sbin/nologin lifeline`,

    '# The data volume is attached after the instance starts: wait for it (bounded), then mount it.',
    'device=""',
    'for attempt in $(seq 1 120); do',
    `  for candidate in /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${o.volumeSerial} ${xenDevice} ${o.deviceName}; do`,
    '    if [ -b "$candidate" ]; then device="$(readlink -f "$candidate")"; break 2; fi',
    '  done',
    '  sleep 5',
    'done',
    `if [ -z "$device" ]; then echo "lifeline: data volume ${o.volumeId} never appeared" >&2; signal 1; exit 1; fi`,
    ...formatDataVolumeLines(),
    `mkdir -p ${DATA_DIR}`,
    `grep -q "UUID=$uuid" /etc/fstab || echo "UUID=$uuid ${DATA_DIR} xfs defaults,nofail 0 2" >> /etc/fstab`,
    `mountpoint -q ${DATA_DIR} || mount ${DATA_DIR}`,
    `chown lifeline:lifeline ${DATA_DIR}`,
    `chmod 700 ${DATA_DIR}`,

    '# The built repository (protocol/dist, collector/dist, collector/migrations, web/dist, lockfile) from the S3 asset.',
    `rm -rf ${APP_DIR}.next`,
    `mkdir -p ${APP_DIR}.next`,
    `unzip -q ${o.appZipPath} -d ${APP_DIR}.next`,
    `(cd ${APP_DIR}.next && ${npm} ci --omit=dev --workspace @lifeline/collector --no-audit --no-fund)`,
    `rm -rf ${APP_DIR}`,
    `mv ${APP_DIR}.next ${APP_DIR}`,

    '# The token is read from Secrets Manager at every start, so it never sits on disk.',
    "cat > /opt/lifeline/start.sh <<'START'",
    '#!/bin/bash',
    'set -euo pipefail',
    `LIFELINE_TOKEN="$(aws secretsmanager get-secret-value --region ${o.region} --secret-id ${o.tokenSecretArn} --query SecretString --output text)"`,
    'export LIFELINE_TOKEN',
    ...readTokenLines,
    `exec ${node} ${APP_DIR}/collector/dist/server.js`,
    'START',
    'chmod 755 /opt/lifeline/start.sh',

    `cat > /etc/systemd/system/${SERVICE_NAME}.service <<'UNIT'`,
    '[Unit]',
    'Description=Lifeline collector',
    'Wants=network-online.target',
    'After=network-online.target',
    `RequiresMountsFor=${DATA_DIR}`,
    '',
    '[Service]',
    'User=lifeline',
    'Group=lifeline',
    'Environment=LIFELINE_HOST=0.0.0.0',
    `Environment=LIFELINE_PORT=${o.port}`,
    `Environment=LIFELINE_DATA_DIR=${DATA_DIR}`,
    `Environment=LIFELINE_DB=${DATA_DIR}/lifeline.db`,
    `WorkingDirectory=${APP_DIR}`,
    'ExecStart=/opt/lifeline/start.sh',
    'Restart=always',
    'RestartSec=2',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    `ReadWritePaths=${DATA_DIR}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    `systemctl enable ${SERVICE_NAME}`,
    `systemctl restart ${SERVICE_NAME}`,

    'healthy=""',
    'for attempt in $(seq 1 90); do',
    `  if curl -fsS -o /dev/null http://127.0.0.1:${o.port}/healthz; then healthy=yes; break; fi`,
    '  sleep 2',
    'done',
    `if [ -z "$healthy" ]; then echo "lifeline: the collector does not answer /healthz; see journalctl -u ${SERVICE_NAME}" >&2; signal 1; exit 1; fi`,
    'signal 0',
  ];
}
