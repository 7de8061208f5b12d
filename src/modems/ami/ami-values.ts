/**
 * Values that go INTO an AMI action (pure).
 *
 * AMI has no escaping at all: an LF (bare or in CRLF) ends a header line, and an empty line ends
 * the action, so any text after it runs as a NEW action with our AMI user's write rights
 * (bg111/asterisk-chan-dongle#101; asterisk-manager 0.2.0 writes values verbatim). Every value
 * we hand to `action()` therefore passes {@link assertSafeAmiValue} / {@link assertSafeAmiAction}.
 * We reject rather than strip: silently altering a number or a payload would be worse than a
 * visible refusal.
 */

/**
 * Asterisk reads request lines into a 1025-byte buffer (`manager.c` get_input, maxlen 1024), so a
 * line may hold at most 1022 bytes before its CRLF. A longer line is discarded and the action is
 * NOT executed ("Failed to parse message: line too long").
 */
export const AMI_MAX_LINE_BYTES = 1022;

/**
 * What we allow ourselves per header line ("Key: value", UTF-8 bytes, without CRLF): a margin
 * below {@link AMI_MAX_LINE_BYTES} so a library change in key spelling can't tip us over.
 */
export const AMI_SAFE_LINE_BYTES = 1000;

export type UnsafeValueProblem = 'control-char' | 'line-too-long' | 'bad-key' | 'lone-surrogate';

/** Thrown when a value must not be written to AMI. Carries no value text (it may be PII or an attack). */
export class AmiUnsafeValueError extends Error {
  readonly code = 'AMI_UNSAFE_VALUE';
  constructor(
    readonly header: string,
    readonly problem: UnsafeValueProblem,
    detail: string,
  ) {
    super(`AMI header ${JSON.stringify(header)} rejected (${problem}): ${detail}`);
    this.name = 'AmiUnsafeValueError';
  }
}

// C0 controls (incl. CR, LF, TAB, NUL) and DEL. TAB is rejected too: it's harmless on the wire,
// but Asterisk's ast_skip_blanks eats it at the start of a value, and no header we send needs one.
// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/;
// A lone UTF-16 surrogate would be written as U+FFFD by Node's UTF-8 encoder: silent corruption.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// What asterisk-manager can write as a key unchanged (it lower-cases and re-capitalises keys).
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Throws {@link AmiUnsafeValueError} if `value` contains CR, LF, any other C0 control char or DEL,
 * or a lone surrogate, or if the header line `name: value` exceeds `maxLineBytes` UTF-8 bytes.
 */
export function assertSafeAmiValue(name: string, value: string, maxLineBytes = AMI_SAFE_LINE_BYTES): void {
  if (!HEADER_NAME.test(name)) {
    throw new AmiUnsafeValueError(name, 'bad-key', 'header names must be [A-Za-z][A-Za-z0-9_-]*');
  }
  const control = CONTROL_CHAR.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw new AmiUnsafeValueError(name, 'control-char', `control character 0x${code} at index ${control.index}`);
  }
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) {
    throw new AmiUnsafeValueError(name, 'lone-surrogate', `lone UTF-16 surrogate at index ${surrogate.index}`);
  }
  const bytes = amiLineBytes(name, value);
  if (bytes > maxLineBytes) {
    throw new AmiUnsafeValueError(name, 'line-too-long', `line is ${bytes} bytes, limit ${maxLineBytes}`);
  }
}

/** UTF-8 byte length of the header line `name: value` (without the CRLF). */
export function amiLineBytes(name: string, value: string): number {
  return Buffer.byteLength(`${name}: ${value}`, 'utf8');
}

/** Header values as we pass them to asterisk-manager's `action()`. `undefined` means "omit". */
export type AmiActionFields = Readonly<Record<string, string | undefined>>;

/** Runs {@link assertSafeAmiValue} over every defined field of an action. */
export function assertSafeAmiAction(fields: AmiActionFields, maxLineBytes = AMI_SAFE_LINE_BYTES): void {
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) assertSafeAmiValue(name, value, maxLineBytes);
  }
}

/**
 * Escapes message text for the current chan_dongle, which runs `Message` through Asterisk's
 * `ast_unescape_c` (wdoekes master since 2020-06-17):
 * - `\` → `\\` (otherwise a backslash before any other char is silently dropped),
 * - LF → `\n`, CR → `\r`, TAB → `\t`, BS → `\b`, FF → `\f` (the escapes ast_unescape_c knows).
 * - A LEADING SPACE would be eaten by the AMI header parser (ast_skip_blanks on the value), so it
 *   becomes `\ `: ast_unescape_c turns "backslash + any other char" into that char, and the value
 *   no longer starts with a blank. Only the first space needs it.
 *
 * Other control chars are left as they are, so {@link assertSafeAmiValue} (which the gateway runs
 * on the result) rejects the message instead of sending something different from what was asked.
 * Classic chan_dongle builds do not unescape; this escaping is wrong for them (see
 * dongle-events.ts `detectGeneration`).
 */
export function escapeDongleMessage(text: string): string {
  let out = '';
  for (const ch of text) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      default: out += ch;
    }
  }
  if (out.startsWith(' ')) out = `\\${out}`;
  return out;
}
