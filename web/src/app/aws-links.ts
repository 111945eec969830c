/**
 * Deep links from an invoke to where a Lambda developer goes next: its X-Ray trace and a CloudWatch Logs Insights
 * query for its request ID in the function's log group. The console's URL shapes are documented in the web README
 * ("Things to know"); both links need the region, which the register event carries.
 */

/** The X-Ray root trace id (`1-…-…`) inside an `_X_AMZN_TRACE_ID` header value, or the value when it is bare. */
export function traceRoot(traceId: string): string | null {
  const root = /(?:^|;)\s*Root=([^;\s]+)/.exec(traceId)?.[1] ?? traceId.trim();
  return /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i.test(root) ? root : null;
}

/** Console link to one X-Ray trace (CloudWatch's trace view), or null when the id is not an X-Ray root id. */
export function xrayTraceUrl(region: string, traceId: string): string | null {
  const root = traceRoot(traceId);
  if (!root) return null;
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/cloudwatch/home?region=${r}#xray:traces/${root}`;
}

/** The Logs Insights query that finds every log line of one request. */
export function requestLogsQuery(requestId: string): string {
  return `fields @timestamp, @message, @logStream\n| filter @requestId = '${requestId.replaceAll("'", "\\'")}'\n| sort @timestamp asc`;
}

/** The default log group of a function: `/aws/lambda/<name>`. */
export function functionLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/**
 * A string as the console's JSURL encodes it: `'` then the text with every character outside `[A-Za-z0-9_.-]`
 * written as `*XX` (or `**XXXX` above 0xFF).
 */
function jsurlString(text: string): string {
  return `'${text.replace(/[^\w.-]/g, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x100
      ? `*${code.toString(16).padStart(2, '0')}`
      : `**${code.toString(16).padStart(4, '0')}`;
  })}`;
}

/** Options of {@link logsInsightsUrl}. */
export interface LogsInsightsLink {
  region: string;
  functionName: string;
  requestId: string;
  /** Epoch ms; the query's time range (pad it: log lines may be stamped a little outside the invoke). */
  from: number;
  to: number;
}

/** Console link that opens Logs Insights on the function's log group with {@link requestLogsQuery} filled in. */
export function logsInsightsUrl({
  region,
  functionName,
  requestId,
  from,
  to,
}: LogsInsightsLink): string {
  const detail =
    `~(end~${jsurlString(new Date(to).toISOString())}` +
    `~start~${jsurlString(new Date(from).toISOString())}` +
    `~timeType~'ABSOLUTE~tz~'UTC` +
    `~editorString~${jsurlString(requestLogsQuery(requestId))}` +
    `~source~(~${jsurlString(functionLogGroup(functionName))}))`;
  // The console reads the fragment's query with `$` in place of `%`.
  const fragment = `logsV2:logs-insights${encodeURIComponent(`?queryDetail=${detail}`).replaceAll('%', '$')}`;
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/cloudwatch/home?region=${r}#${fragment}`;
}
