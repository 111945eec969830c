import { type Browser, chromium } from 'playwright-core';

/** Launches Debian's Chromium headless (LIFELINE_CHROMIUM overrides the path); loopback only. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.LIFELINE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
