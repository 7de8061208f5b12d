/**
 * The one list of what simcast needs from Asterisk's manager interface (AMI): the actions it
 * sends, the events it reads, the permission classes those require, and the `eventfilter` that
 * keeps a busy PBX's channel events off the wire.
 *
 * The sample `asterisk/manager.conf` and `asterisk/manager_custom.conf` must grant exactly
 * {@link amiPermissions} (test/unit/asterisk-config.test.ts checks both files against this module).
 *
 * Asterisk's rules (main/manager.c):
 * - an action runs if the user's `write` classes overlap the action's classes (any one is enough);
 * - an event reaches the session only if ALL of its classes are in the user's `read` classes,
 *   and then only if it passes the user's `eventfilter` lines;
 * - list items (e.g. `DongleDeviceEntry` carrying our ActionID) are part of the action's response:
 *   they need no read class and bypass `eventfilter`;
 * - `FullyBooted` at login is written straight to the new session (it needs read `system`, and
 *   skips the filter); Login, Logoff, Ping and Events need no class.
 */

/** Asterisk's manager permission classes (manager.c `perms[]`), the ones a user line may name. */
export type AmiClass =
  | 'system' | 'call' | 'log' | 'verbose' | 'command' | 'agent' | 'user' | 'config' | 'dtmf'
  | 'reporting' | 'cdr' | 'dialplan' | 'originate' | 'agi' | 'cc' | 'aoc' | 'test' | 'security'
  | 'message';

/** An action simcast sends. */
export interface AmiActionNeed {
  readonly action: string;
  /** The action's classes in Asterisk: it runs if `write` has ANY of them. Empty: always allowed. */
  readonly anyOf: readonly AmiClass[];
  /** The one class simcast grants for it (the narrowest of `anyOf`), or null when none is needed. */
  readonly granted: AmiClass | null;
  readonly why: string;
}

/** An event (or list item) simcast reads. */
export interface AmiEventNeed {
  /** The `Event:` header, as Asterisk spells it. */
  readonly event: string;
  /** Its classes: `read` needs ALL of them. Empty for list items (they come as part of a response). */
  readonly allOf: readonly AmiClass[];
  /** `event`: an unsolicited event, must pass eventfilter; `list-item`: bypasses it. */
  readonly delivery: 'event' | 'list-item';
  readonly why: string;
}

/** Every AMI action simcast sends (Login/Logoff are sent by the asterisk-manager library). */
export const amiActions = [
  { action: 'Login', anyOf: [], granted: null, why: 'logs in as the [simcast] user' },
  { action: 'Logoff', anyOf: [], granted: null, why: 'ends the session on shutdown' },
  { action: 'Ping', anyOf: [], granted: null, why: 'heartbeat: a missed Pong means a dead link (connection.ts)' },
  { action: 'DongleSendSMS', anyOf: ['call'], granted: 'call', why: 'sends every SMS (dongle-gateway.ts)' },
  {
    action: 'DongleShowDevices', anyOf: ['system', 'reporting'], granted: 'reporting',
    why: 'lists the modems for the «Модемы» page and detects the chan_dongle generation; reporting is the narrower of the two classes chan_dongle accepts',
  },
] as const satisfies readonly AmiActionNeed[];

/** Every AMI event simcast reads (names in src/modems/ami/*.ts must be here: a unit test checks). */
export const amiEvents = [
  { event: 'DongleReport', allOf: ['call'], delivery: 'event', why: 'outcome of each SMS (current chan_dongle), keyed by our Payload' },
  { event: 'DongleSMSStatus', allOf: ['call'], delivery: 'event', why: 'outcome of each SMS on a classic chan_dongle (classic.ts)' },
  { event: 'DongleStatus', allOf: ['call'], delivery: 'event', why: 'a modem connected, disconnected or was dropped with its queue' },
  { event: 'DongleNewSMSBase64', allOf: ['call'], delivery: 'event', why: 'incoming SMS (replies, STOP words) for the inbox and opt-outs' },
  { event: 'UserEvent', allOf: ['user'], delivery: 'event', why: 'dialplan hooks: UserEvent(SimcastNotify,…) asks for a notification SMS (missed call, IVR)' },
  { event: 'FullyBooted', allOf: ['system'], delivery: 'event', why: 'Asterisk is fully booted, sent at login and after a restart (modules such as chan_dongle are loaded); nothing acts on it yet' },
  { event: 'DongleDeviceEntry', allOf: [], delivery: 'list-item', why: 'one per modem in the DongleShowDevices answer' },
  { event: 'DongleShowDevicesComplete', allOf: [], delivery: 'list-item', why: 'ends the DongleShowDevices answer' },
] as const satisfies readonly AmiEventNeed[];

/** What the [simcast] AMI user is granted, and why each class. */
export interface AmiPermissions {
  readonly read: readonly AmiClass[];
  readonly write: readonly AmiClass[];
  /** Per class, the actions/events that need it. */
  readonly readWhy: Readonly<Partial<Record<AmiClass, string>>>;
  readonly writeWhy: Readonly<Partial<Record<AmiClass, string>>>;
  /**
   * `eventfilter` lines (legacy regex form, Asterisk 13+): an event passes if ANY of them matches
   * somewhere in its text (`Event: X\r\nPrivilege: …\r\n…`, unanchored POSIX extended regex).
   */
  readonly eventFilters: readonly string[];
}

export const amiPermissions = {
  read: ['call', 'user', 'system'],
  write: ['call', 'reporting'],
  readWhy: {
    call: 'every chan_dongle event: DongleReport, DongleSMSStatus, DongleStatus, DongleNewSMSBase64 (also brings Newchannel, Hangup… — hence the eventfilter)',
    user: 'UserEvent from the dialplan (SimcastNotify: missed call, IVR hooks)',
    system: 'FullyBooted (Asterisk ready; received, not acted on yet)',
  },
  writeWhy: {
    call: 'DongleSendSMS',
    reporting: 'DongleShowDevices (chan_dongle accepts system OR reporting; reporting is the narrower)',
  },
  eventFilters: ['Event: (Dongle|UserEvent|FullyBooted)'],
} as const satisfies AmiPermissions;

/**
 * Asterisk's legacy `eventfilter` decision for one event's text (manager.c `match_filter`):
 * no filters → pass; `!regex` lines reject on a match; if there are plain lines, at least one must
 * match. Regexes are searched, not anchored. JavaScript's RegExp stands in for POSIX ERE, which is
 * exact for the plain alternations used here.
 */
export function passesEventFilter(eventText: string, filters: readonly string[] = amiPermissions.eventFilters): boolean {
  const accept = filters.filter((f) => !f.startsWith('!')).map((f) => new RegExp(f));
  const reject = filters.filter((f) => f.startsWith('!')).map((f) => new RegExp(f.slice(1)));
  if (accept.length > 0 && !accept.some((re) => re.test(eventText))) return false;
  return !reject.some((re) => re.test(eventText));
}
