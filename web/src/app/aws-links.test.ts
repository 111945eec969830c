import { describe, expect, it } from 'vitest';
import { logsInsightsUrl, requestLogsQuery, traceRoot, xrayTraceUrl } from './aws-links.ts';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';

describe('traceRoot', () => {
  it('reads Root from an _X_AMZN_TRACE_ID header value', () => {
    expect(traceRoot(`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`)).toBe(ROOT);
  });

  it('accepts a bare root id and refuses anything else', () => {
    expect(traceRoot(ROOT)).toBe(ROOT);
    expect(traceRoot('trace-abc')).toBeNull();
  });
});

describe('xrayTraceUrl', () => {
  it('opens the trace in the region of the environment', () => {
    expect(xrayTraceUrl('eu-west-1', `Root=${ROOT};Sampled=0`)).toBe(
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/${ROOT}`,
    );
  });
});

describe('logsInsightsUrl', () => {
  it('encodes log group, query and absolute range the way the console reads them', () => {
    const url = logsInsightsUrl({
      region: 'us-east-1',
      functionName: 'orders',
      requestId: 'r-1',
      from: Date.UTC(2026, 0, 2, 3, 4, 5),
      to: Date.UTC(2026, 0, 2, 3, 14, 5),
    });
    const [base, fragment] = url.split('#');
    expect(base).toBe('https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1');
    expect(fragment).toMatch(
      /^logsV2:logs-insights\$3FqueryDetail\$3D~\(end~'2026-01-02T03\*3a14\*3a05\.000Z~start~'2026-01-02T03\*3a04\*3a05\.000Z~timeType~'ABSOLUTE~tz~'UTC~editorString~'/,
    );
    expect(fragment).toContain("~source~(~'*2faws*2flambda*2forders))");
    // Decoding the JSURL string gives the query back.
    const editor = /editorString~'([^~]*)/.exec(fragment!)![1]!;
    const decoded = editor.replace(/\*([0-9a-f]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    expect(decoded).toBe(requestLogsQuery('r-1'));
  });
});
