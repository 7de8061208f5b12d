/**
 * Incremental AMI stream parser (pure: bytes in, messages out).
 *
 * Wire facts it honours (Asterisk main/manager.c, recorded transcripts in test/fixtures/ami; docs/ami-protocol.md §1):
 * - TCP delivers arbitrary chunks: a frame may span reads, a read may hold many frames, and a
 *   UTF-8 character may be split between reads — so we buffer BYTES and decode whole lines.
 * - A line ends with CRLF or a bare LF; a lone CR stays in the value.
 * - The first line of a session is the banner `Asterisk Call Manager/x.y.z` (no colon).
 * - A message is `Key: Value` lines ended by an empty line. chan_dongle writes an EXTRA empty line
 *   after DongleNewSMS: empty lines outside a message are skipped, never an empty message.
 * - Header names match case-insensitively → we lower-case keys. The first duplicate wins
 *   (astman_get_header semantics). Leading blanks of a value are skipped; `Key:` alone is ''.
 * - Lines without a colon carry no header (e.g. the tail of a CRLF-injected value) and are dropped.
 * - Legacy `Response: Follows` (old `Command`): raw output lines until `--END COMMAND--`; they are
 *   collected into a `content` key so they can't masquerade as headers ending the message early.
 */

/** One parsed AMI message: lower-case keys, string values (first occurrence of each key). */
export type AmiMessage = Readonly<Record<string, string>>;

/** Options for {@link AmiFrameParser}. */
export interface AmiFrameParserOptions {
  /**
   * A single line longer than this (bytes) is discarded to bound memory; the message it was in
   * is still delivered without it. Default 4 MiB (a 255-part inbound SMS in base64 is ~100 KB).
   */
  maxLineBytes?: number;
}

const BANNER_PREFIX = 'Asterisk Call Manager/';
const LF = 0x0a;
const CR = 0x0d;

/** Feed it chunks with {@link AmiFrameParser.push}; it returns the messages completed so far. */
export class AmiFrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLineBytes: number;
  private current: Record<string, string> | null = null;
  private followsLines: string[] | null = null;
  private followsEnded = false;
  private isFirstLine = true;
  private discarding = false;
  /** The banner line, once seen (e.g. `Asterisk Call Manager/7.0.3`). */
  banner: string | null = null;
  /** How many over-long lines were dropped (see {@link AmiFrameParserOptions.maxLineBytes}). */
  discardedLines = 0;

  constructor(options: AmiFrameParserOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? 4 * 1024 * 1024;
  }

  /** Appends a chunk (bytes, or an already-decoded string) and returns the completed messages. */
  push(chunk: Uint8Array | string): AmiMessage[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    this.buffer = this.buffer.length === 0 ? bytes : Buffer.concat([this.buffer, bytes]);
    const out: AmiMessage[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf(LF, start);
      if (lf < 0) break;
      let end = lf;
      if (end > start && this.buffer[end - 1] === CR) end--;
      if (this.discarding) {
        // The rest of an over-long line: drop it, resume with the next line.
        this.discarding = false;
      } else if (end - start > this.maxLineBytes) {
        this.discardedLines++;
      } else {
        this.handleLine(this.decoder.decode(this.buffer.subarray(start, end)), out);
      }
      start = lf + 1;
    }
    this.buffer = this.buffer.subarray(start);
    if (this.buffer.length > this.maxLineBytes) {
      this.buffer = Buffer.alloc(0);
      this.discarding = true;
      this.discardedLines++;
    }
    return out;
  }

  /** Forgets any partial message and expects a new banner (use it for a new connection). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.current = null;
    this.followsLines = null;
    this.followsEnded = false;
    this.isFirstLine = true;
    this.discarding = false;
  }

  private handleLine(line: string, out: AmiMessage[]): void {
    if (this.isFirstLine) {
      this.isFirstLine = false;
      if (line.startsWith(BANNER_PREFIX)) {
        this.banner = line;
        return;
      }
    }
    if (this.followsLines) {
      this.handleFollowsLine(line, out);
      return;
    }
    if (line === '') {
      // Ends a message — or is the stray blank line chan_dongle writes after DongleNewSMS.
      if (this.current) out.push(this.current);
      this.current = null;
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return; // no header here (see module comment)
    const key = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(/^[ \t]+/, '');
    // A fresh object without a prototype: keys like "__proto__" or "constructor" from an
    // untrusted event must not reach Object.prototype.
    this.current ??= Object.create(null) as Record<string, string>;
    if (!(key in this.current)) this.current[key] = value;
    if (key === 'response' && value.toLowerCase() === 'follows' && Object.keys(this.current).length === 1) {
      this.followsLines = [];
    }
  }

  private handleFollowsLine(line: string, out: AmiMessage[]): void {
    const lines = this.followsLines as string[];
    const current = this.current as Record<string, string>;
    if (this.followsEnded) {
      if (line !== '') return; // junk between the terminator and the blank line
      current.content = lines.join('\n');
      out.push(current);
      this.current = null;
      this.followsLines = null;
      this.followsEnded = false;
      return;
    }
    if (line.endsWith(END_COMMAND)) {
      // Asterisk appends the terminator right after the output, which may not end in a newline.
      const rest = line.slice(0, -END_COMMAND.length);
      if (rest !== '') lines.push(rest);
      this.followsEnded = true;
      return;
    }
    // Privilege and ActionID right after "Response: Follows" are real headers; anything else,
    // even with a colon, is command output.
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
    if (lines.length === 0 && FOLLOWS_HEADERS.has(key)) {
      if (!(key in current)) current[key] = line.slice(colon + 1).replace(/^[ \t]+/, '');
      return;
    }
    lines.push(line);
  }
}

const END_COMMAND = '--END COMMAND--';
const FOLLOWS_HEADERS = new Set(['privilege', 'actionid']);

/** Parses a complete byte string (e.g. a test fixture) in one go. */
export function parseAmiMessages(data: Uint8Array | string): AmiMessage[] {
  return new AmiFrameParser().push(data);
}
