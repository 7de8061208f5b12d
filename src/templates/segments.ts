import { ru } from '../i18n/ru.js';
import { AMI_SAFE_LINE_BYTES, amiLineBytes, escapeDongleMessage } from '../modems/ami/ami-values.js';

/**
 * How many SMS parts chan_dongle will send (and the operator will bill) for a text.
 *
 * This mirrors wdoekes/asterisk-chan-dongle master, not the textbook 160/153 and 70/67 rules,
 * because chan_dongle is what actually cuts the message:
 *
 * 1. `at_enqueue_sms()` (at_command.c) converts the UTF-8 Message to UTF-16BE with iconv, so the unit
 *    is the UTF-16 code unit: an emoji (surrogate pair) is 2 units.
 * 2. `pdu_build_mult()` (pdu.c) calls `gsm7_encode()` (char_conv.c). If every unit is in its GSM
 *    7-bit table (default alphabet + default extension table, looked up in `LUT_GSM7_REV*` of
 *    gsm7_luts.h, column 0) the whole message goes as GSM-7, extension characters costing 2 septets;
 *    one character outside it and the whole message goes as UCS-2.
 * 3. GSM-7 split: `split = gsm7_len > 160 ? 153 : 160`, then each part takes characters while
 *    `septets + req < split` (note: `<`, not `<=`). So a part holds at most 159 septets when the
 *    text is ≤ 160, and at most 152 when it is longer; an extension character never straddles a
 *    part. Consequences that differ from the textbook, and that we count as chan_dongle does:
 *    - exactly 160 septets goes as **2 parts** (159 + 1), and the first part then carries a UDH on
 *      159 septets, more than the 153 that fit: see {@link hasOverlongFirstPart};
 *    - 153 × 2 = 306 septets is 3 parts (152 + 152 + 2), not 2.
 * 4. UCS-2 split: `split = msg_len > 70 ? 67 : 70`, `parts = ceil(msg_len / split)`, cut at fixed
 *    unit offsets with no regard for surrogates, so an emoji at the 67-unit boundary is split across
 *    two parts (the phone shows garbage for it) but the count is still `ceil(units / 67)`.
 * 5. An empty text builds 0 parts (the loops never run); AMI refuses an empty Message anyway
 *    ("Message not specified"), so callers must not send it. We report 0 parts.
 */
export interface SegmentCount {
  encoding: 'gsm7' | 'ucs2';
  /** Septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2). */
  length: number;
  /** Characters as a person counts them: Unicode code points (an emoji is 1). */
  characters: number;
  /** SMS parts chan_dongle sends, each billed separately. */
  parts: number;
  /** Capacity of each part in `length` units as chan_dongle splits this text: 159 or 152 (GSM-7), 70 or 67 (UCS-2). */
  perPart: number;
}

// chan_dongle's GSM-7 table (gsm7_luts.h, column 0: default alphabet and its extension table).
// Note Ç (U+00C7) is in it but ç (U+00E7) is not, and neither is the tab or the backtick.
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table: sent as ESC + code, 2 septets each.
// U+0000 and U+2000 are artefacts of how chan_dongle generated its reverse table (its decode table
// has filler 0x0000/0x2000 entries); they really do encode as 2-septet escapes there.
const GSM7_EXTENDED = '\f^{}\\[~]|€\u0000\u2000';

/** Septet cost per UTF-16 unit: 1 or 2, 0 = not GSM-7. */
const SEPTETS = new Uint8Array(0x10000);
for (const ch of GSM7_BASIC) SEPTETS[ch.charCodeAt(0)] = 1;
for (const ch of GSM7_EXTENDED) SEPTETS[ch.charCodeAt(0)] = 2;

const SMS_GSM7_MAX_LEN = 160;
const CSMS_GSM7_MAX_LEN = 153;
const SMS_UCS2_MAX_LEN = 70;
const CSMS_UCS2_MAX_LEN = 67;

/** Counts parts, encoding and length of an SMS text exactly as chan_dongle will split it. */
export function countSegments(text: string): SegmentCount {
  const units = text.length;
  let characters = 0;
  let septets = 0;
  let gsm7 = true;
  for (let i = 0; i < units; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate completes a pair already counted as one character.
    if (unit < 0xdc00 || unit > 0xdfff) characters++;
    else if (i === 0 || !isHighSurrogate(text.charCodeAt(i - 1))) characters++;
    if (gsm7) {
      const cost = SEPTETS[unit]!;
      if (cost === 0) gsm7 = false;
      else septets += cost;
    }
  }

  if (gsm7) {
    const split = septets > SMS_GSM7_MAX_LEN ? CSMS_GSM7_MAX_LEN : SMS_GSM7_MAX_LEN;
    let parts = 0;
    let offset = 0;
    // Same greedy loop as pdu_build_mult(): a part takes units while `septets + req < split`.
    while (offset < units) {
      let used = 0;
      while (offset < units) {
        const cost = SEPTETS[text.charCodeAt(offset)]!;
        if (used + cost >= split) break;
        used += cost;
        offset++;
      }
      parts++;
    }
    return { encoding: 'gsm7', length: septets, characters, parts, perPart: split - 1 };
  }

  const split = units > SMS_UCS2_MAX_LEN ? CSMS_UCS2_MAX_LEN : SMS_UCS2_MAX_LEN;
  return { encoding: 'ucs2', length: units, characters, parts: Math.ceil(units / split), perPart: split };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** True when the character is in the GSM-7 default alphabet (1 septet; not the extension table). */
export function isGsm7Basic(ch: string): boolean {
  return ch.length === 1 && SEPTETS[ch.charCodeAt(0)] === 1;
}

/** True when every character of the text goes as GSM-7 in chan_dongle (no Cyrillic, no emoji…). */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (SEPTETS[text.charCodeAt(i)] === 0) return false;
  return true;
}

/**
 * True for a GSM-7 text of exactly 160 septets. chan_dongle sends it as 2 parts whose first part
 * holds 158–159 septets plus a 7-septet concatenation header — more than the 160 a PDU allows, and
 * its own 176-octet TPDU check does not catch it — so the modem or SMSC will likely refuse that
 * part. Probable from the code, untested on hardware; removing one character makes it 1 safe part.
 */
export function hasOverlongFirstPart(count: SegmentCount): boolean {
  return count.encoding === 'gsm7' && count.length === SMS_GSM7_MAX_LEN;
}

/** Russian text when a message takes more than `maxParts` SMS, else null. */
export function maxPartsProblem(parts: number, maxParts: number): string | null {
  return parts > maxParts ? ru.templates.segments.tooManyParts(parts, maxParts) : null;
}

/**
 * UTF-8 bytes of the `Message:` header line chan_dongle will get for `text` (escaped as the
 * gateway escapes it: `\\` and a line break take two bytes). Asterisk drops an action with a line
 * over 1022 bytes, so a text must fit {@link AMI_SAFE_LINE_BYTES} — about 990 Latin characters,
 * about 495 Cyrillic ones (docs/ami-protocol.md §1.2).
 */
export function messageLineBytes(text: string): number {
  return amiLineBytes('Message', escapeDongleMessage(text));
}

/**
 * The most parts any setting may allow: a Cyrillic text of that many full parts (67 units of
 * 2 bytes each) still fits one AMI line. 7 with today's limits.
 */
export const MAX_PARTS_THAT_FIT = Math.floor((AMI_SAFE_LINE_BYTES - amiLineBytes('Message', '')) / (2 * CSMS_UCS2_MAX_LEN));

/**
 * The length problem of one rendered message for the preview, in Russian, or null: more parts
 * than allowed, longer than one AMI line can carry (a GSM-7 text of 7 parts, for one, is
 * ~1060 bytes), or the 160-septet case of {@link hasOverlongFirstPart}.
 */
export function segmentProblem(text: string, count: SegmentCount, maxParts: number): string | null {
  const tooMany = maxPartsProblem(count.parts, maxParts);
  if (tooMany) return tooMany;
  const bytes = messageLineBytes(text);
  if (bytes > AMI_SAFE_LINE_BYTES) return ru.templates.segments.tooLongForAmi(bytes, AMI_SAFE_LINE_BYTES);
  return hasOverlongFirstPart(count) ? ru.templates.segments.exactly160 : null;
}
