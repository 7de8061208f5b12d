import type { Actor } from '../auth/actor.js';
import type { AuditAction } from '../audit/audit-log.js';
import type { AppServices } from './app.js';

/**
 * Records what a page or API request did, after it succeeded (uploads, campaign actions, SIM and
 * settings changes). Compliance changes (stop-list, consent, erasure) write their audit row inside
 * their own transaction instead; see compliance-service.ts.
 */
export function auditTrail({ audit, knex, clock }: Pick<AppServices, 'audit' | 'knex' | 'clock'>) {
  return (actor: Actor, action: AuditAction, target: string | null, details: Record<string, unknown> = {}) =>
    audit.record(knex, actor, clock.now(), action, target, details);
}
