import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Options of {@link webRoutes}. */
export interface WebRoutesOptions {
  webDir: string;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lifeline collector</title></head>
<body><h1>Lifeline collector</h1>
<p>The dashboard is not built. Run <code>npm run build</code> at the repository root, then restart the collector.</p>
<p>The API is under <code>/v1</code>; health at <code>/healthz</code>, metrics at <code>/metrics</code>.</p>
</body></html>
`;

/** Whether `webDir` holds a built dashboard. */
export function hasDashboard(webDir: string): boolean {
  return existsSync(join(webDir, 'index.html'));
}

/**
 * Serves the built dashboard at `/`. Unknown non-`/v1` GETs fall back to index.html (client-side routing); see the
 * not-found handler in app.ts. Without a build, `/` explains how to make one.
 */
export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, options) => {
  if (hasDashboard(options.webDir)) {
    await app.register(fastifyStatic, {
      root: options.webDir,
      index: ['index.html'],
      // Cache-Control is the request guard's (cacheControl in request-guard.ts), one rule for every response.
      cacheControl: false,
      // A source map would hand the whole source to anyone who can reach the collector; the build makes none, and
      // one copied in by hand is not served either.
      allowedPath: (pathName) => !pathName.endsWith('.map'),
    });
    return;
  }
  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return NOT_BUILT;
  });
};
