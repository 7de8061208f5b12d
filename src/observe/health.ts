import { BlockList, isIPv6 } from 'node:net';
import type { Knex } from 'knex';
import type { ModemInfo, SmsGateway } from '../modems/sms-gateway.js';
import { withTimeout } from './metrics.js';

/** What `GET /healthz` answers: no personal data, nothing that needs a login. */
export interface Health {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
  ami: 'connected' | 'disconnected';
  /** From the last chan_dongle listing; `ready` is 0 while AMI is down. */
  modems: { ready: number; total: number };
}

export interface HealthDeps {
  knex: Knex;
  gateway: Pick<SmsGateway, 'isConnected'>;
  /** The modems as last listed (cached by the dispatcher; no AMI round trip per probe). */
  modems: () => readonly ModemInfo[];
  /** Bound on `select 1`. Default 2 s. */
  databaseTimeoutMs?: number;
}

/** Database (`select 1` within the timeout) and AMI; either down makes the service unavailable (503). */
export async function checkHealth(deps: HealthDeps): Promise<Health> {
  const database = await withTimeout(deps.knex.raw('select 1'), deps.databaseTimeoutMs ?? 2000).then(
    () => 'ok' as const,
    () => 'unavailable' as const,
  );
  const connected = deps.gateway.isConnected();
  const modems = deps.modems();
  return {
    status: database === 'ok' && connected ? 'ok' : 'unavailable',
    database,
    ami: connected ? 'connected' : 'disconnected',
    modems: { ready: connected ? modems.filter((m) => m.ready).length : 0, total: modems.length },
  };
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 and IPv4-mapped ::ffff:127.x. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  try {
    return loopback.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  } catch {
    return false; // not an IP address at all
  }
}

/**
 * Who may read `/metrics`: a direct connection from this host, or anyone with a valid API token.
 * `remoteAddress` must be the SOCKET's address, never `req.ip`: with `trust proxy` set to
 * loopback, `req.ip` comes from X-Forwarded-For. A request that came through a proxy
 * (`forwarded`: it carries Forwarded, X-Forwarded-*, X-Real-IP or Via) is not local even when the proxy runs
 * on this host, or a reverse proxy would publish the metrics to everyone it serves.
 */
export function metricsAccess(remoteAddress: string | undefined, hasValidToken: boolean, forwarded = false): boolean {
  if (hasValidToken) return true;
  return !forwarded && isLoopback(remoteAddress);
}
