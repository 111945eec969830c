import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The project's global setup has just built dist from the current sources.
const DIST = resolve(import.meta.dirname, '../dist');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('the built dashboard', () => {
  it('ships no source map and no reference to one', () => {
    const all = files(DIST);
    expect(all.filter((path) => path.endsWith('.map'))).toEqual([]);
    for (const path of all.filter((file) => /\.(js|css)$/.test(file))) {
      expect(readFileSync(path, 'utf8'), path).not.toContain('sourceMappingURL');
    }
  });

  it('has no inline script or style element, so the collector’s CSP (script-src and style-src self) allows it', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc=/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
  });
});
