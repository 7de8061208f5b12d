import { pino, type Logger } from 'pino';
import { maskPhone, maskText } from './compliance/redact.js';

export type { Logger };

/**
 * One root logger per process; components take `log.child({ component })`.
 *
 * Phone numbers and SMS texts are personal data (152-FZ): code logs message ids instead, and two
 * layers keep what slips through out of the log:
 *
 * 1. At EVERY level, pino's redaction by key: a phone under `phone`, `to`, `from`, `number` (top
 *    level or one level down) is masked (`+7916***67`: enough for support to tell numbers apart), a
 *    `text` shows its length only (`[12 симв.]`), `password` and `secret` become `[скрыто]`. The
 *    masks are compliance/redact.ts's `maskPhone` / `maskText`.
 * 2. At info and above (what runs in production), every finished line is checked once more
 *    ({@link maskLogLine}): at any depth, including serialized errors (a pg error's `detail`, a
 *    URL with a number in its query) and the message string,
 *    - anything that looks like a phone number (Russian `+7…`/`8…`/`7…` with or without
 *      separators, a bare `9xx…` mobile, any `+` international number, `%2B` URL-encoded) is masked;
 *    - values under phone-like keys (`from`, `number`, `msisdn`, `callerIdNum`, …) are masked, under
 *      text-like keys (`text`, `body`, `sms`, `messageLine0`, …) reduced to their length;
 *    - an AMI message logged as is (an object with a CamelCase `event`/`action`, e.g. DongleNewSMS)
 *      keeps only its technical fields (device, status, actionid, payload…): `Message`, `From`,
 *      `Number`, `AppData`, `Value` and the rest are hidden.
 *    An SMS text under an unknown key or inside a message string can't be recognised: don't log it.
 *
 * Debug and trace lines skip layer 2 on purpose: an administrator who turns on LOG_LEVEL=debug
 * knowingly accepts more detail while chasing a problem (layer 1 still applies).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'simcast' },
      redact: {
        paths: [
          'phone', 'to', 'from', 'number', 'text', 'password', 'secret',
          '*.phone', '*.to', '*.from', '*.number', '*.text', '*.secret', '*.password',
        ],
        censor: (value: unknown, path: string[]) => {
          const key = (path.at(-1) ?? '').toLowerCase();
          if (PHONE_KEYS.has(key)) return maskPhoneValue(value);
          return key === 'text' ? maskTextValue(value) : HIDDEN;
        },
      },
    },
    masking(destination ?? pino.destination(1)),
  );
}

const HIDDEN = '[скрыто]';
/** Pino's numeric level for `info`: layer 2 applies from here up. */
const MASK_FROM_LEVEL = 30;
const MAX_DEPTH = 12;

const PHONE_KEYS = new Set(['phone', 'phones', 'to', 'from', 'number', 'numbers', 'msisdn', 'recipient', 'sender', 'callerid', 'calleridnum', 'connectedlinenum']);
const TEXT_KEYS = new Set(['text', 'texts', 'body', 'sms', 'smstext', 'smsbase64', 'sms_base64', 'reply']);
/** Fields of an AMI message that carry no personal data (everything else is hidden at info+). */
const AMI_SAFE_KEYS = new Set(['event', 'action', 'actionid', 'response', 'privilege', 'device', 'status', 'state', 'success', 'type',
  'payload', 'eventlist', 'uniqueid', 'linkedid', 'linecount', 'report', 'id', 'validity', 'username', 'channel', 'context', 'exten']);

/**
 * Phone-like substrings: Russian numbers (+7 / 7 / 8 and ten digits, separators allowed), a bare
 * ten-digit mobile (9xx…), and any `+`-international number of 10–14 digits; `%2B` is a URL-encoded `+`.
 */
const PHONE_PATTERN = new RegExp(
  [
    String.raw`(?:\+|%2[Bb])?[78][\s\-(]{0,2}\d{3}[\s\-)]{0,2}\d{3}[\s\-]?\d{2}[\s\-]?\d{2}`,
    String.raw`9\d{2}[\s\-)]{0,2}\d{3}[\s\-]?\d{2}[\s\-]?\d{2}`,
    String.raw`(?:\+|%2[Bb])\d{10,14}`,
  ].map((p) => String.raw`(?<!\d)${p}(?!\d)`).join('|'),
  'g',
);

/** One phone-like match → compliance/redact.ts's mask (`+7916***67`); a URL-encoded `%2B` counts as `+`. */
function maskPhoneMatch(match: string): string {
  return maskPhone(match.replace(/^%2B/i, '+'));
}

function maskPhonesIn(text: string): string {
  return text.replace(PHONE_PATTERN, maskPhoneMatch);
}

/** A value under a phone-like key: a whole number masked; other strings (an alphanumeric sender) only where they hold a number. */
function maskPhoneValue(value: unknown): unknown {
  if (typeof value === 'string') return /^[\d\s+()\-]+$/.test(value) && /\d{5}/.test(value.replace(/\D/g, '')) ? maskPhoneMatch(value) : maskPhonesIn(value);
  if (typeof value === 'number') return maskPhoneMatch(String(value));
  if (Array.isArray(value)) return value.map(maskPhoneValue);
  return value === null || value === undefined ? value : HIDDEN;
}

/** A text → its length only (`[12 симв.]`, compliance/redact.ts); anything else hidden. */
function maskTextValue(value: unknown): unknown {
  if (value === undefined || value === null || value === HIDDEN) return value;
  if (typeof value !== 'string') return HIDDEN;
  // Layer 1 already masked a top-level `text`: both layers see it.
  return isMaskedText(value) ? value : maskText(value);
}

/** True for maskText's output (`[12 симв.]`, i.e. ru.compliance.maskedText for any length). */
function isMaskedText(value: string): boolean {
  const n = /^\[(\d{1,6})\D/.exec(value)?.[1];
  return n !== undefined && value.length < 40 && value === maskText('x'.repeat(Number(n)));
}

function isAmiMessage(obj: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(obj)) {
    const k = key.toLowerCase();
    if ((k === 'event' || k === 'action') && typeof value === 'string' && /^[A-Z]/.test(value)) return true;
  }
  return false;
}

function maskDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskPhonesIn(value);
  // A number logged as a number (11 digits: +7/8…; 10: 9xx…); a 13-digit epoch time doesn't match.
  if (typeof value === 'number' && Number.isInteger(value) && maskPhonesIn(String(value)) !== String(value)) return maskPhonesIn(String(value));
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return HIDDEN;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const obj = value as Record<string, unknown>;
  const ami = depth > 0 && isAmiMessage(obj); // the line itself has our own lower-case `event`
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    const k = key.toLowerCase();
    if (PHONE_KEYS.has(k)) out[key] = maskPhoneValue(v);
    else if (TEXT_KEYS.has(k) || /^messageline\d+$/.test(k)) out[key] = maskTextValue(v);
    else if (ami && !AMI_SAFE_KEYS.has(k)) out[key] = v === undefined || v === null || v === '' ? v : HIDDEN;
    else out[key] = maskDeep(v, depth + 1);
  }
  return out;
}

/**
 * Layer 2 for one serialized pino line (see {@link createLogger}): lines below info pass unchanged.
 * Exported for tests.
 */
export function maskLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return maskPhonesIn(line); // not JSON (never from pino): at least no numbers
  }
  if (typeof parsed !== 'object' || parsed === null) return maskPhonesIn(line);
  const level = (parsed as { level?: unknown }).level;
  if (typeof level === 'number' && level < MASK_FROM_LEVEL) return line;
  return `${JSON.stringify(maskDeep(parsed, 0))}${line.endsWith('\n') ? '\n' : ''}`;
}

/** Wraps a destination so every line goes through {@link maskLogLine}; flushing is passed through. */
function masking(destination: pino.DestinationStream): pino.DestinationStream {
  const target = destination as pino.DestinationStream & { flushSync?: () => void; flush?: (cb?: (err?: Error) => void) => void; end?: () => void };
  const wrapped: pino.DestinationStream & Record<string, unknown> = {
    write: (line: string) => target.write(maskLogLine(line)),
  };
  if (typeof target.flushSync === 'function') wrapped.flushSync = () => target.flushSync?.();
  if (typeof target.flush === 'function') wrapped.flush = (cb?: (err?: Error) => void) => target.flush?.(cb);
  if (typeof target.end === 'function') wrapped.end = () => target.end?.();
  return wrapped;
}
