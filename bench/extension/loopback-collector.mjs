// A loopback collector for the benchmark, in its own process so it does not share the emulator's event loop:
// accepts POST /v1/events, answers {"accepted":n,"duplicates":m} (idempotent by id). Prints its port on stdout.
import { createServer } from 'node:http';

const seen = new Set();
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let accepted = 0;
    let duplicates = 0;
    try {
      for (const event of JSON.parse(Buffer.concat(chunks).toString()).events) {
        if (seen.has(event.id)) duplicates++;
        else {
          seen.add(event.id);
          accepted++;
        }
      }
    } catch {
      res.writeHead(400).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ accepted, duplicates }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
