/**
 * The built-in simulated function: a small Node runtime run as a real child process (`node --input-type=module -e`).
 * It loops on `/runtime/invocation/next` and follows the per-invoke behaviour the emulator sends in the
 * {@link BEHAVIOUR_HEADER} header (the payload stays the caller's): work for `durationMs`, then answer, fail,
 * hang (timeout) or exit (crash), streaming its answer for `streamMs` when the function streams. SIGTERM makes it exit 0 after logging, like a graceful runtime.
 */

/** Response header carrying `{durationMs, outcome, exitCode?, streamMs?}` to the simulated runtime. */
export const BEHAVIOUR_HEADER = 'X-Lifeline-Emulator-Behaviour';

/** Runtime-only variable: simulated static-initialisation time of the function, in ms. */
export const INIT_DELAY_VARIABLE = 'LIFELINE_EMULATOR_FUNCTION_INIT_MS';

/** Error type the simulated function reports for outcome `error`. */
export const SIMULATED_ERROR_TYPE = 'Function.SimulatedError';

/** Source of the runtime script (plain ESM JavaScript, no dependencies). */
export const SIMULATED_RUNTIME_SOURCE = `
import http from 'node:http';
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(':');
const agent = new http.Agent({ keepAlive: true });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function call(method, path, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path, agent, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body); else req.end();
  });
}
// Response streaming: the first bytes at once, the rest over streamMs; a failure mid-stream travels in trailers.
function stream(path, requestId, streamMs, fail) {
  return new Promise((resolve) => {
    const req = http.request({
      host, port: Number(port), method: 'POST', path, agent,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        'Content-Type': 'application/json',
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    }, (res) => { res.resume(); res.on('end', resolve); res.on('error', resolve); });
    req.on('error', resolve);
    (async () => {
      req.write('{"ok":true,"requestId":"' + requestId + '","chunks":[0');
      for (let i = 1; i <= 4; i++) {
        await sleep(streamMs / 4);
        req.write(',' + i);
      }
      if (fail) {
        const body = JSON.stringify({ errorMessage: 'Simulated failure mid-stream', errorType: 'SimulatedError' });
        req.addTrailers({
          'Lambda-Runtime-Function-Error-Type': '${SIMULATED_ERROR_TYPE}',
          'Lambda-Runtime-Function-Error-Body': Buffer.from(body).toString('base64'),
        });
      }
      req.end(']}');
    })();
  });
}
process.on('SIGTERM', () => {
  console.log('[runtime] SIGTERM received, exiting');
  process.exit(0);
});
const initMs = Number(process.env.${INIT_DELAY_VARIABLE} || 0);
if (initMs > 0) await sleep(initMs);
console.log('[runtime] function initialised, handler ' + process.env._HANDLER);
// SnapStart: Init ends here; the snapshot is taken while this call waits, and the restore answers it.
if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start') {
  const restored = await call('GET', '/2018-06-01/runtime/restore/next');
  console.log('[runtime] restored (' + restored.status + ')');
}
// Managed Instances: one /next loop per concurrent invoke the environment may run.
const workers = Math.max(1, Number(process.env.AWS_LAMBDA_MAX_CONCURRENCY || 1));
for (let i = 0; i < workers; i++) serve();
async function serve() {
for (;;) {
  const next = await call('GET', '/2018-06-01/runtime/invocation/next');
  if (next.status !== 200) {
    console.error('[runtime] /next failed with ' + next.status + ': ' + next.body);
    process.exit(1);
  }
  const requestId = next.headers['lambda-runtime-aws-request-id'];
  let behaviour = {};
  try { behaviour = JSON.parse(next.headers['${BEHAVIOUR_HEADER.toLowerCase()}'] || '{}'); } catch {}
  console.log('[runtime] invoked ' + requestId);
  if (behaviour.durationMs > 0) await sleep(behaviour.durationMs);
  const outcome = behaviour.outcome || 'success';
  if (outcome === 'crash') {
    console.error('[runtime] crashing on purpose');
    process.exit(typeof behaviour.exitCode === 'number' ? behaviour.exitCode : 1);
  }
  if (outcome === 'timeout') {
    console.log('[runtime] hanging until the function timeout');
    await new Promise(() => setInterval(() => {}, 1 << 30));
  }
  const base = '/2018-06-01/runtime/invocation/' + requestId;
  if (typeof behaviour.streamMs === 'number') {
    await stream(base + '/response', requestId, behaviour.streamMs, outcome === 'error');
    continue;
  }
  if (outcome === 'error') {
    const body = JSON.stringify({ errorMessage: 'Simulated failure', errorType: 'SimulatedError', stackTrace: [] });
    await call('POST', base + '/error', body, { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': '${SIMULATED_ERROR_TYPE}' });
  } else {
    let payload = null;
    try { payload = JSON.parse(next.body); } catch {}
    await call('POST', base + '/response', JSON.stringify({ ok: true, requestId, echo: payload }), { 'Content-Type': 'application/json' });
  }
}
}
`;
