import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  type CollectorSetupOptions,
  collectorSetupScript,
} from '../../lib/collector-setup-script.ts';

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

  it('formats the data volume only when it has no file system', () => {
    const lines = collectorSetupScript(OPTIONS);
    expect(lines).toContain('blkid "$device" >/dev/null 2>&1 || mkfs -t xfs "$device"');
    expect(lines.filter((line) => line.includes('mkfs'))).toHaveLength(1);
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
