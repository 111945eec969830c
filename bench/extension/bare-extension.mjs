// The benchmark baseline: the least an external extension can do. Registers with node:http and loops on
// /event/next until SHUTDOWN. Launched exactly like Lifeline (bash launcher → node), under the same emulator.
import { Agent, request } from 'node:http';

const base = `http://${process.env.AWS_LAMBDA_RUNTIME_API}`;
const agent = new Agent({ keepAlive: true });

function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const registered = await call(
  'POST',
  '/2020-01-01/extension/register',
  { 'lambda-extension-name': 'bare', 'content-type': 'application/json' },
  '{"events":["INVOKE","SHUTDOWN"]}',
);
const id = registered.headers['lambda-extension-identifier'];
for (;;) {
  const next = await call('GET', '/2020-01-01/extension/event/next', {
    'lambda-extension-identifier': id,
  });
  if (JSON.parse(next.body).eventType === 'SHUTDOWN') process.exit(0);
}
