import { Router, type Request } from 'express';
import type { TokensRepo } from '../../auth/tokens.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { checkHealth, metricsAccess, type HealthDeps } from '../../observe/health.js';
import type { ServiceMetrics } from '../../observe/metrics.js';

export interface Observability {
  health: HealthDeps;
  metrics: ServiceMetrics;
}

/**
 * `GET /healthz` (anyone: status only, no personal data) and `GET /metrics` (from this host, or
 * with an API token of any role). Mounted before the session: probes get no cookie.
 */
export function observeRoutes(services: { observability: Observability; tokens: TokensRepo; clock: Clock; log: Logger }): Router {
  const router = Router();
  const { observability, tokens, clock } = services;
  const log = services.log.child({ component: 'observe' });

  router.get('/healthz', async (_req, res) => {
    const health = await checkHealth(observability.health);
    res.setHeader('Cache-Control', 'no-store');
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });

  router.get('/metrics', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const remote = req.socket.remoteAddress;
    const forwarded = isForwarded(req);
    if (!metricsAccess(remote, false, forwarded)) {
      const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      let valid = false;
      if (match) {
        try {
          valid = (await tokens.verify(match[1]!, clock.now())) !== null;
        } catch (err) {
          log.warn({ event: 'metrics.token-check-failed', err }, 'could not check the token for /metrics');
          res.status(503).type('text/plain').send('database unavailable: the token cannot be checked\n');
          return;
        }
      }
      if (!metricsAccess(remote, valid, forwarded)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="simcast"');
        res.status(401).type('text/plain').send('/metrics: from this host, or with Authorization: Bearer <API token>\n');
        return;
      }
    }
    const { contentType, body } = await observability.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  });

  return router;
}

function isForwarded(req: Request): boolean {
  // Any header a reverse proxy adds (nginx's common `proxy_set_header X-Real-IP` sets only that one).
  return proxyHeaders.some((h) => req.get(h) !== undefined);
}

const proxyHeaders = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip', 'via'];
