import type { Role } from './users-repo.js';

/**
 * Who is acting: a person on the pages, an API token, or simcast itself (an opt-out by reply,
 * the dispatcher). Every service call that changes something takes one, so the audit log can
 * say who did it and from where, and role checks have one thing to look at.
 */
export interface Actor {
  kind: 'user' | 'token' | 'system';
  /** users.id or api_tokens.id; null for the system. */
  id: number | null;
  /** Login, token name, or what the system was doing ("ответ СТОП"). */
  name: string;
  role: Role;
  /** Client address for people and tokens; null for the system. */
  address: string | null;
}

/** How an actor is written in the audit log and in `created_by` columns: `user:anna`, `token:crm`, `system:…`. */
export function actorLabel(actor: Actor): string {
  return `${actor.kind}:${actor.name}`;
}

export function systemActor(name: string): Actor {
  return { kind: 'system', id: null, name, role: 'admin', address: null };
}
