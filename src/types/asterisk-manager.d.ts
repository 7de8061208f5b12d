/**
 * Local types for `asterisk-manager@0.2.0` (no @types package exists, none bundled).
 * Only what simcast uses, typed as the library really behaves (lib/ami.js), traps included.
 */
declare module 'asterisk-manager' {
  namespace AsteriskManager {
    /**
     * What the library's parser hands out: lower-case keys; a string per key, an ARRAY when a key
     * repeats, an OBJECT for `Variable`/`ChanVariable` (split on '='); `Key:` lines without a
     * space after the colon end up as a key containing the colon. `Response: Follows` comes as
     * `{ response: 'follows', content, actionid }`. The blank block after DongleNewSMS is `{}`.
     */
    type RawAmiMessage = Record<string, string | string[] | Record<string, string> | undefined>;

    /** Called with the response as `err` when it is `Response: Error`. */
    type ActionCallback = (err: RawAmiMessage | undefined, res?: RawAmiMessage) => void;

    /** A field value as `action()` encodes it (arrays joined by ',', objects as `k=v` lines). */
    type ActionValue = string | number | boolean | undefined | readonly string[] | Record<string, string>;

    interface Manager {
      options: { port: number | undefined; host: string; username: string; password: string; events: boolean };
      /** Opens the TCP socket; `cb` on 'connect' (errors only as 'error'/'close' events). */
      connect(port: number, host: string, cb?: () => void): void;
      /**
       * Sends Login (ActionID = Date.now()). `cb(err)` with the Error response on failure, `cb()`
       * after success; only then are actions released (they are held until login succeeds).
       */
      login(cb?: (err?: RawAmiMessage) => void): void;
      /**
       * Writes an action. ActionID is `obj.actionid` (else Date.now() — collides!). Values are
       * written VERBATIM (no CR/LF escaping). While disconnected the action is silently lost.
       * Returns the ActionID used.
       */
      action(obj: Record<string, ActionValue>, cb?: ActionCallback): string;
      disconnect(cb?: () => void): void;
      isConnected(): boolean;
      /** Broken unless called synchronously right after construction; simcast doesn't use it. */
      keepConnected(): void;

      on(event: 'rawevent' | 'managerevent' | 'response' | 'asterisk', listener: (msg: RawAmiMessage) => void): this;
      on(event: 'connect' | 'end', listener: () => void): this;
      on(event: 'close', listener: (hadError: boolean) => void): this;
      on(event: 'error', listener: (err: Error) => void): this;
      on(event: string, listener: (...args: never[]) => void): this;
      once(event: string, listener: (...args: never[]) => void): this;
      removeListener(event: string, listener: (...args: never[]) => void): this;
      removeAllListeners(event?: string): this;
      listeners(event: string): Array<(...args: unknown[]) => void>;
      emit(event: string, ...args: unknown[]): boolean;
    }
  }

  /**
   * Creates a manager. With a `port` it connects AND logs in at once — with the login callback
   * lost (failed logins are invisible); simcast passes no port and calls connect()/login() itself.
   */
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): AsteriskManager.Manager;

  export = AsteriskManager;
}
