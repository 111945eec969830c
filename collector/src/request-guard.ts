import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CollectorConfig, isLoopbackHost } from './config.ts';
import { ForbiddenError, OverloadedError } from './errors.ts';
import type { CollectorMetrics } from './metrics.ts';

/** `Host` header values that are safe to repeat in a header (name or bracketed IPv6, optional port). */
const HOST_HEADER = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The host name of a `Host` header, lower-cased and without its port; undefined when malformed. */
export function hostNameOf(header: string | undefined): string | undefined {
  if (header === undefined || !HOST_HEADER.test(header)) return undefined;
  const name = header.startsWith('[')
    ? header.slice(0, header.indexOf(']') + 1)
    : header.split(':')[0];
  return name?.toLowerCase().replace(/\.$/, '');
}

/**
 * Whether the collector answers a request with this `Host` header. On a loopback bind only loopback names (and
 * `allowedHosts`) are answered: a DNS-rebinding page, whose own name now points at 127.0.0.1, is refused because
 * its requests carry that name. On another bind with no `allowedHosts`, any name is answered.
 */
export function hostAllowed(
  header: string | undefined,
  config: Pick<CollectorConfig, 'host' | 'allowedHosts'>,
): boolean {
  const name = hostNameOf(header);
  if (name === undefined) return false;
  if (!isLoopbackHost(config.host) && config.allowedHosts.length === 0) return true;
  return isLoopbackHost(name) || config.allowedHosts.includes(name);
}

/**
 * Whether a request with this `Origin` may proceed: no `Origin` (not a browser page: curl, the extension, a test
 * client), the collector's own origin (same scheme-less host and port as the `Host` it was sent to), or one of
 * `allowedOrigins`. Browsers always send `Origin` on WebSocket upgrades and cross-origin requests, so a page from
 * anywhere else is refused even when no read token is set.
 */
export function originAllowed(
  origin: string | undefined,
  hostHeader: string | undefined,
  allowedOrigins: readonly string[],
): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (hostHeader !== undefined && url.host === hostHeader.toLowerCase()) return true;
  return allowedOrigins.includes(url.origin);
}

/**
 * The Content-Security-Policy of every response: scripts, styles, fonts and images from the collector only (the
 * built dashboard has no inline script or style element; React sets styles through the DOM, which CSP allows), the
 * API and the live socket on the same host, no framing, no plugins, no `<base>` rewriting.
 */
export function contentSecurityPolicy(hostHeader: string | undefined): string {
  // 'self' covers ws: and wss: on the same host in CSP level 3; the explicit sources serve older engines.
  const socket =
    hostHeader !== undefined && HOST_HEADER.test(hostHeader)
      ? ` ws://${hostHeader} wss://${hostHeader}`
      : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${socket}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * How long a browser may keep a response. The dashboard's assets are named by their content hash (Vite), so a
 * browser keeps them for good and a reloading tab asks for none of them; the page itself is revalidated (ETag), so
 * a new build shows at the next load. Everything else (API answers, health, metrics) is private and changes, so it is
 * never stored: not in a shared cache, not on the disk of a browser that had the read token.
 */
export function cacheControl(url: string): string {
  if (url.startsWith('/assets/')) return 'public, max-age=31536000, immutable';
  if (
    url === '/v1' ||
    url.startsWith('/v1/') ||
    url.startsWith('/healthz') ||
    url.startsWith('/metrics')
  ) {
    return 'no-store';
  }
  return 'no-cache';
}

function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('cache-control', cacheControl(request.url));
  reply.header('content-security-policy', contentSecurityPolicy(request.headers.host));
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Installs, before any route runs: the security headers on every response, the `Host` check, the `Origin` check and
 * the cap on live sockets (checked before the upgrade, so a refused client never holds a socket). Refusals are
 * counted in `lifeline_refused_requests_total{reason}`.
 */
export function installRequestGuard(
  app: FastifyInstance,
  config: CollectorConfig,
  metrics: CollectorMetrics,
): void {
  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(request, reply);
    const host = request.headers.host;
    if (!hostAllowed(host, config)) {
      count(metrics.refusedRequests, 'host');
      throw new ForbiddenError(
        `this collector does not answer to the host name in the Host header; add it with --allowed-hosts`,
      );
    }
    const origin = request.headers.origin;
    if (!originAllowed(origin, host, config.allowedOrigins)) {
      count(metrics.refusedRequests, 'origin');
      throw new ForbiddenError(
        `requests from pages of origin ${JSON.stringify(origin)} are refused; add it with --allowed-origins`,
      );
    }
    if (
      request.routeOptions.url === '/v1/live' &&
      request.headers.upgrade?.toLowerCase() === 'websocket' &&
      app.websocketServer.clients.size >= config.maxLiveClients
    ) {
      count(metrics.refusedRequests, 'live_clients');
      throw new OverloadedError(
        `the collector serves at most ${config.maxLiveClients} live clients (--max-live-clients); retry later`,
      );
    }
  });
}
