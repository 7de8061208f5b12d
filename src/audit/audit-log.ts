import type { Knex } from 'knex';
import { actorLabel, type Actor } from '../auth/actor.js';

/**
 * Stable action codes: API clients filter on them, so never rename or reuse one.
 * Targets and details never hold personal data: phones are masked (compliance/redact.ts).
 */
export const auditActions = [
  'user.login', 'user.login-failed', 'user.logout',
  'user.create', 'user.update', 'user.password-reset', 'user.disable', 'user.enable',
  'token.create', 'token.revoke',
  'list.upload', 'list.reupload', 'list.update',
  'campaign.create', 'campaign.start', 'campaign.pause', 'campaign.resume', 'campaign.cancel',
  'export.download',
  'stop-list.add', 'stop-list.remove', 'stop-list.import',
  'consent.give', 'consent.withdraw', 'consent.import',
  'inbox.handled',
  'erasure.requested', 'erasure.done',
  'sim.update', 'settings.update',
  'notification-template.save',
  'template.save',
  'campaign.test', 'campaign.exported',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  at: Date;
  actor: string;
  address: string | null;
  action: AuditAction;
  target: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  limit?: number;
  before?: number;
}

/**
 * The append-only audit log. `record` takes the caller's knex or transaction, so an audit row
 * commits or rolls back together with the change it describes.
 */
export class AuditLog {
  constructor(private readonly knex: Knex) {}

  async record(
    db: Knex | Knex.Transaction,
    actor: Actor,
    at: Date,
    action: AuditAction,
    target: string | null = null,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await db('audit_log').insert({
      at,
      actor: actorLabel(actor),
      address: actor.address,
      action,
      target,
      details: JSON.stringify(details),
    });
  }

  /** Every actor label that has a row, for the journal's filter. */
  async actors(limit = 500): Promise<string[]> {
    const rows: Array<{ actor: string }> = await this.knex('audit_log').distinct('actor').orderBy('actor').limit(limit);
    return rows.map((r) => r.actor);
  }

  /** Newest first; `before` is an id for paging back. */
  async list(filter: AuditFilter = {}): Promise<Array<AuditEntry & { id: number }>> {
    const q = this.knex('audit_log').orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(Math.min(filter.limit ?? 200, 1000));
    if (filter.action) q.where('action', filter.action);
    if (filter.actor) q.where('actor', filter.actor);
    if (filter.before) q.where('id', '<', filter.before);
    const rows: Array<{ id: number; at: Date; actor: string; address: string | null; action: AuditAction; target: string | null; details: Record<string, unknown> }> = await q.select();
    return rows.map((r) => ({ id: Number(r.id), at: new Date(r.at), actor: r.actor, address: r.address, action: r.action, target: r.target, details: r.details ?? {} }));
  }
}
