import type { Knex } from 'knex';
import session from 'express-session';

/**
 * express-session store on our own knex, so sessions live in PostgreSQL in both modes
 * (connect-pg-simple wants a pg Pool, which the embedded PGlite mode does not have).
 */
export class KnexSessionStore extends session.Store {
  constructor(
    private readonly knex: Knex,
    private readonly now: () => Date,
    private readonly defaultTtlMs = 12 * 3600_000,
  ) {
    super();
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.knex('sessions')
      .where({ sid })
      .andWhere('expires_at', '>', this.now())
      .first('sess')
      .then((row) => callback(null, row ? (row.sess as session.SessionData) : null), callback);
  }

  override set(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires) : new Date(this.now().getTime() + this.defaultTtlMs);
    this.knex('sessions')
      .insert({ sid, sess: JSON.stringify(sess), expires_at: expires })
      .onConflict('sid')
      .merge()
      .then(() => callback?.(), (err) => callback?.(err));
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.knex('sessions')
      .where({ sid })
      .delete()
      .then(() => callback?.(), (err) => callback?.(err));
  }

  override touch(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
    this.set(sid, sess, callback);
  }

  /** Removes expired sessions; called periodically by the server. */
  async prune(): Promise<number> {
    return this.knex('sessions').where('expires_at', '<=', this.now()).delete();
  }
}
