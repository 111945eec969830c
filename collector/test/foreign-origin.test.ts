import { createServer } from 'node:http';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawnCollector } from './collector-process.ts';
import { tempDir } from './helper.ts';

/** Every name under .test resolves to loopback in this browser: the DNS-rebinding attacker's situation. */
const REBIND_RULES = '--host-resolver-rules=MAP *.test 127.0.0.1';

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env.LIFELINE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--no-first-run',
      REBIND_RULES,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

/** What a page saw when it opened the live socket: the first frame's type, or how the socket ended. */
const OPEN_LIVE = `(url) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  socket.onmessage = (message) => { resolve('frame:' + JSON.parse(message.data).type); socket.close(); };
  socket.onclose = (event) => resolve('closed:' + event.code);
})`;

/** A page on another origin (another port of 127.0.0.1), like any web site the user has open. */
async function foreignPage(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>elsewhere</title><p>a page from another origin</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
}

async function collectorWithoutReadToken() {
  const dir = tempDir();
  return spawnCollector([
    '--port',
    '0',
    '--db',
    join(dir, 'origin.db'),
    '--web-dir',
    join(dir, 'no-dashboard'),
  ]);
}

describe('a collector without a read token, seen from a browser', () => {
  it('refuses the live socket to a page from another origin, and serves it to its own page under its CSP', async () => {
    const collector = await collectorWithoutReadToken();
    const live = `${collector.url.replace(/^http/, 'ws')}/v1/live?after=0`;
    const context = await browser.newContext();
    onTestFinished(() => context.close());
    const page = await context.newPage();

    await page.goto(await foreignPage());
    expect(await page.evaluate(`(${OPEN_LIVE})(${JSON.stringify(live)})`)).toBe('closed:1006');

    // The collector's own page: same origin, and its Content-Security-Policy lets it reach the live socket.
    const own = await page.goto(`${collector.url}/`);
    expect(own?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(await page.evaluate(`(${OPEN_LIVE})(${JSON.stringify(live)})`)).toBe('frame:hello');
  });

  it('refuses a DNS-rebinding page: its requests carry its own host name', async () => {
    const collector = await collectorWithoutReadToken();
    const port = new URL(collector.url).port;
    const context = await browser.newContext();
    onTestFinished(() => context.close());
    const page = await context.newPage();
    // rebind.test now resolves to 127.0.0.1: the page at http://rebind.test:PORT is same-origin with the API.
    const response = await page.goto(`http://rebind.test:${port}/v1/functions`);
    expect(response?.status()).toBe(403);
    const live = `ws://rebind.test:${port}/v1/live?after=0`;
    expect(await page.evaluate(`(${OPEN_LIVE})(${JSON.stringify(live)})`)).toBe('closed:1006');
    // The same browser on the loopback address itself is served.
    expect((await page.goto(`${collector.url}/v1/functions`))?.status()).toBe(200);
  });
});
