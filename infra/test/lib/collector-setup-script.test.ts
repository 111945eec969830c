import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CollectorSetupOptions,
  collectorSetupScript,
  formatDataVolumeLines,
} from '../../lib/collector-setup-script.ts';
import { removeTempDirs, tempDir, writeTree } from '../helpers/temp.ts';

afterAll(removeTempDirs);

const OPTIONS: CollectorSetupOptions = {
  volumeId: 'vol-0123456789abcdef0',
  volumeSerial: 'vol0123456789abcdef0',
  deviceName: '/dev/sdf',
  region: 'eu-west-1',
  tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lifeline-AbCdEf',
  port: 7460,
  appZipPath: '/opt/lifeline/app.zip',
  nodeMajor: 22,
};

describe('collectorSetupScript', () => {
  it.each([
    ['without', OPTIONS],
    ['with', { ...OPTIONS, signal: { stackName: 'S', resource: 'R' } }],
  ])('is valid bash %s a creation signal', (_with, options) => {
    const lines = collectorSetupScript(options);
    const script = ['#!/bin/bash', 'set -euo pipefail', ...lines].join('\n');
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('formats the data volume only when blkid finds no file system on it', () => {
    const lines = collectorSetupScript(OPTIONS);
    expect(lines).toEqual(expect.arrayContaining(formatDataVolumeLines()));
    expect(lines).not.toContain('blkid "$device" >/dev/null 2>&1 || mkfs -t xfs "$device"');
    expect(lines.filter((line) => line.includes('mkfs -t xfs'))).toHaveLength(1);
    expect(lines.indexOf('if [ "$probe" -eq 2 ]; then')).toBeLessThan(
      lines.indexOf('  mkfs -t xfs "$device"'),
    );
  });

  it('installs a compiler, make and python3 before npm ci, for a better-sqlite3 built from source', () => {
    const lines = collectorSetupScript(OPTIONS);
    const dnf = lines.findIndex((line) => line.startsWith('dnf install -y'));
    expect(lines[dnf]?.split(' ')).toEqual(
      expect.arrayContaining(['gcc-c++', 'make', 'python3', 'nodejs22', 'nodejs22-npm', 'unzip']),
    );
    expect(dnf).toBeLessThan(lines.findIndex((line) => line.includes(' ci --omit=dev')));
  });

  it('waits for the volume a bounded number of times, by NVMe serial or device name', () => {
    const script = collectorSetupScript(OPTIONS).join('\n');
    expect(script).toContain('for attempt in $(seq 1 120); do');
    expect(script).toContain(
      '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0 /dev/xvdf /dev/sdf',
    );
    expect(script).toContain('never appeared');
  });

  it('installs the requested Node.js major and runs the collector with it', () => {
    const script = collectorSetupScript({ ...OPTIONS, nodeMajor: 24 }).join('\n');
    expect(script).toContain('dnf install -y nodejs24 nodejs24-npm unzip');
    expect(script).toContain('/usr/bin/npm-24 ci --omit=dev --workspace @lifeline/collector');
    expect(script).toContain('exec /usr/bin/node-24 /opt/lifeline/app/collector/dist/server.js');
  });

  it('reads the read token only when one is configured', () => {
    expect(collectorSetupScript(OPTIONS).join('\n')).not.toContain('LIFELINE_READ_TOKEN');
    const withRead = collectorSetupScript({
      ...OPTIONS,
      readTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:read-XyZ',
    }).join('\n');
    expect(withRead).toContain(
      '--secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:read-XyZ',
    );
    expect(withRead).toContain('export LIFELINE_READ_TOKEN');
  });

  it('signals CloudFormation on failure and after a healthy start when asked to', () => {
    const lines = collectorSetupScript({
      ...OPTIONS,
      signal: { stackName: 'LifelineCollector', resource: 'CollectorInstance1234' },
    });
    const script = lines.join('\n');
    expect(lines.indexOf("trap 'signal 1' ERR")).toBeLessThan(
      lines.findIndex((line) => line.startsWith('dnf install')),
    );
    expect(script).toContain('aws-cfn-bootstrap');
    expect(script).toContain(
      '--stack LifelineCollector --resource CollectorInstance1234 --region eu-west-1',
    );
    expect(lines.at(-1)).toBe('signal 0');
    expect(script).toContain('curl -fsS -o /dev/null http://127.0.0.1:7460/healthz');
  });

  it('signals nothing without a creation policy', () => {
    const script = collectorSetupScript(OPTIONS).join('\n');
    expect(script).not.toContain('cfn-signal');
    expect(script).toContain('signal() { :; }');
  });

  it('never writes a token to disk', () => {
    const script = collectorSetupScript(OPTIONS).join('\n');
    expect(script).not.toMatch(/LIFELINE_TOKEN=.*>/);
    expect(script).not.toMatch(/Environment=LIFELINE_TOKEN/);
  });
});

/**
 * Runs {@link formatDataVolumeLines} in bash against fake `blkid`, `dd` and `mkfs` (on PATH) that record what they
 * were asked. `[ -b ]` is faked too, since a test machine may have no block device to spare.
 */
function runFormat(fake: { blkidExit: number; blockDevice: boolean; readable?: boolean }) {
  const dir = tempDir('lifeline-format-');
  const bin = join(dir, 'bin');
  writeTree(bin, {
    blkid: {
      // The UUID query succeeds once formatted (or when the probe found a file system), like the real one.
      content: `#!/bin/sh
case " $* " in *" UUID "*) if [ -f "${dir}/formatted" ] || [ ${fake.blkidExit} -eq 0 ]; then echo 0f0e-uuid; fi; exit 0;; esac
if [ -f "${dir}/formatted" ]; then exit 0; fi
exit ${fake.blkidExit}
`,
      mode: 0o755,
    },
    dd: { content: `#!/bin/sh\nexit ${fake.readable === false ? 1 : 0}\n`, mode: 0o755 },
    mkfs: { content: `#!/bin/sh\necho "$@" > "${dir}/formatted"\n`, mode: 0o755 },
  });
  const script = [
    'set -euo pipefail',
    `PATH="${bin}:$PATH"`,
    `isblock=${fake.blockDevice ? 0 : 1}`,
    '[() { case "$1 $2" in "-b "*) return $isblock;; "! -b") builtin [ $isblock -ne 0 ]; return;; esac; builtin [ "$@"; }',
    'signal() { echo "signal $1"; }',
    'device=/dev/nvme1n1',
    ...formatDataVolumeLines(),
    'echo "uuid=$uuid"',
  ].join('\n');
  const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  const formatted = existsSync(join(dir, 'formatted'))
    ? readFileSync(join(dir, 'formatted'), 'utf8').trim()
    : undefined;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, formatted };
}

describe('formatDataVolumeLines', () => {
  it('formats a readable block device when blkid finds no file system (exit 2)', () => {
    const run = runFormat({ blkidExit: 2, blockDevice: true });
    expect(run.formatted).toBe('-t xfs /dev/nvme1n1');
    expect(run.stdout).toContain('uuid=0f0e-uuid');
    expect(run.status).toBe(0);
  });

  it('keeps the file system when blkid finds one (exit 0)', () => {
    const run = runFormat({ blkidExit: 0, blockDevice: true });
    expect(run.formatted).toBeUndefined();
    expect(run.stdout).toContain('uuid=0f0e-uuid');
    expect(run.status).toBe(0);
  });

  it.each([
    [4, 'blkid exit 4'],
    [8, 'blkid exit 8'],
  ])('stops loudly without formatting when blkid fails otherwise (exit %i)', (exit, message) => {
    const run = runFormat({ blkidExit: exit, blockDevice: true });
    expect(run.formatted).toBeUndefined();
    expect(run.stderr).toContain(message);
    expect(run.stdout).toContain('signal 1');
    expect(run.status).toBe(1);
  });

  it('stops loudly without formatting when the device is not a block device', () => {
    const run = runFormat({ blkidExit: 2, blockDevice: false });
    expect(run.formatted).toBeUndefined();
    expect(run.stderr).toContain('not a block device');
    expect(run.status).toBe(1);
  });

  it('stops loudly without formatting when the device cannot be read', () => {
    const run = runFormat({ blkidExit: 2, blockDevice: true, readable: false });
    expect(run.formatted).toBeUndefined();
    expect(run.stderr).toContain('cannot read /dev/nvme1n1');
    expect(run.status).toBe(1);
  });
});
