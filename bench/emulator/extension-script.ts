/** A minimal well-behaved external extension (plain node:http, no timeouts), and one that ignores SHUTDOWN. */
export function extensionSource(options: { ignoreShutdown?: boolean } = {}): string {
  return `#!/usr/bin/env node
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true });
const name = require('node:path').basename(process.argv[1]);
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  const reg = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': name }, '{"events":["INVOKE","SHUTDOWN"]}');
  const id = reg.headers['lambda-extension-identifier'];
  for (;;) {
    const res = await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    const event = JSON.parse(res.body);
    if (event.eventType === 'SHUTDOWN') {
      ${options.ignoreShutdown ? 'setInterval(() => {}, 1000); return;' : 'process.exit(0);'}
    }
  }
})();
`;
}
