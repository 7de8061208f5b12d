/**
 * SMS-DELIVER PDUs (3GPP TS 23.040 §9.2.2.1, SMSC header per TS 27.005 PDU mode) as a modem hands
 * them to chan_dongle in `+CMGR:` — for the simulator's `DongleNewCMGR` events, plus a decoder the
 * tests use to check the simulator against the recorded transcript (chan-dongle-incoming.txt).
 *
 * Like the rest of the simulator this is independent of the client-side code. Text is always
 * UCS-2 (DCS 0x08), as the recorded peer sent even plain ASCII; long texts are cut like a phone
 * does for UCS-2: one part up to 70 UTF-16 units, otherwise 67 units per part at fixed offsets
 * (a surrogate pair may straddle two parts), each part with a 6-octet concatenation UDH
 * `05 00 03 <ref> <total> <seq>`.
 */

/** The SMSC the simulated SIM reports (also DongleDeviceEntry's SMSServiceCenter). */
export const SIM_SMSC = '+79168999100';

const UCS2_SINGLE = 70;
const UCS2_CONCAT = 67;
/** TP-OA holds at most 10 octets of address value: 11 packed GSM-7 characters. */
const MAX_ALPHA_CHARS = 11;

export interface DeliverPduOptions {
  /** Concatenation reference (0–255), the same in every part of one SMS. */
  ref: number;
  /** Service-centre time stamp (SCTS); written in UTC (time zone 00). */
  at: Date;
  /** SMSC address; default {@link SIM_SMSC}. */
  smsc?: string;
}

/** One PDU as `+CMGR: <stat>,,<len>` reports it: `len` is the TPDU length (without the SMSC part). */
export interface DeliverPdu {
  hex: string;
  tpduLength: number;
}

/** UCS-2 parts the way the sender's phone cuts a text (see module comment). */
export function splitUcs2(text: string): string[] {
  if (text.length <= UCS2_SINGLE) return [text];
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += UCS2_CONCAT) parts.push(text.slice(i, i + UCS2_CONCAT));
  return parts;
}

/** Builds the SMS-DELIVER PDU(s) for one inbound SMS, one per part. Throws beyond 255 parts. */
export function buildDeliverPdus(from: string, text: string, options: DeliverPduOptions): DeliverPdu[] {
  const parts = splitUcs2(text);
  if (parts.length > 255) throw new Error(`simulator: an SMS has at most 255 parts, this text needs ${parts.length}`);
  const concatenated = parts.length > 1;
  const smscHex = smscAddress(options.smsc ?? SIM_SMSC);
  const oa = originatingAddress(from);
  const scts = timestamp(options.at);
  return parts.map((part, i) => {
    const ud = Buffer.from(part, 'utf16le').swap16();
    const udh = concatenated ? Buffer.from([5, 0, 3, options.ref & 0xff, parts.length, i + 1]) : Buffer.alloc(0);
    const tpdu = Buffer.concat([
      // TP-MTI 00 (DELIVER), TP-MMS 1 (no more messages waiting) = 0x04; TP-UDHI adds 0x40.
      Buffer.from([concatenated ? 0x44 : 0x04]),
      oa,
      Buffer.from([0x00, 0x08]), // TP-PID 00, TP-DCS 08 (UCS-2)
      scts,
      Buffer.from([udh.length + ud.length]), // TP-UDL: octets for UCS-2
      udh,
      ud,
    ]);
    return { hex: (smscHex + tpdu.toString('hex')).toUpperCase(), tpduLength: tpdu.length };
  });
}

/** SMSC information: length octet (type + value octets), type, swapped semi-octets. */
function smscAddress(number: string): string {
  const digits = number.replace(/^\+/, '');
  if (digits === '') return '00';
  const value = semiOctets(digits);
  return Buffer.concat([Buffer.from([value.length + 1, number.startsWith('+') ? 0x91 : 0x81]), value]).toString('hex');
}

/**
 * TP-OA: `+digits` → international (0x91); plain digits (a short code like 900) → unknown/ISDN
 * (0x81); anything else (e.g. "MegaFon") → alphanumeric (0xD0), GSM-7 packed, at most 11 characters,
 * characters outside the GSM-7 default alphabet sent as '?'.
 */
function originatingAddress(from: string): Buffer {
  const m = /^(\+?)([0-9]{1,20})$/.exec(from);
  if (m) {
    const digits = m[2] as string;
    return Buffer.concat([Buffer.from([digits.length, m[1] === '+' ? 0x91 : 0x81]), semiOctets(digits)]);
  }
  if (from === '') return Buffer.from([0x00, 0x81]);
  const septets = [...from].slice(0, MAX_ALPHA_CHARS).map(gsm7Code);
  const packed = packSeptets(septets);
  // The length counts useful semi-octets: ceil(septets * 7 / 4).
  return Buffer.concat([Buffer.from([Math.ceil((septets.length * 7) / 4), 0xd0]), packed]);
}

/** "79995550101" → 97 99 55 50 10 F1 (pairs swapped, F padding). */
function semiOctets(digits: string): Buffer {
  const padded = digits.length % 2 === 1 ? `${digits}F` : digits;
  const out: number[] = [];
  for (let i = 0; i < padded.length; i += 2) out.push(Number.parseInt(`${padded[i + 1]}${padded[i]}`, 16));
  return Buffer.from(out);
}

/** TP-SCTS: YY MM DD hh mm ss TZ, each as swapped semi-octets; UTC, so TZ 00. */
function timestamp(at: Date): Buffer {
  const values = [at.getUTCFullYear() % 100, at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), 0];
  return Buffer.from(values.map((v) => ((v % 10) << 4) | Math.floor(v / 10)));
}

// GSM 03.38 default alphabet (no extension table: an alphanumeric sender rarely needs it).
const GSM7 =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

function gsm7Code(ch: string): number {
  const i = GSM7.indexOf(ch);
  return i >= 0 && ch.length === 1 ? i : 0x3f; // '?'
}

function packSeptets(septets: number[]): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const s of septets) {
    acc |= s << bits;
    bits += 7;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out.push(acc & 0xff);
  return Buffer.from(out);
}

function unpackSeptets(data: Buffer, count: number): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of data) {
    acc |= byte << bits;
    bits += 8;
    while (bits >= 7 && out.length < count) {
      out.push(acc & 0x7f);
      acc >>= 7;
      bits -= 7;
    }
  }
  return out;
}

// ------------------------------------------------------------------ decoding (tests, diagnostics)

/** What {@link decodeDeliverPdu} reads out of one SMS-DELIVER PDU. */
export interface DecodedDeliver {
  smsc: string;
  firstOctet: number;
  /** `+digits` (0x91), digits (other numeric types), or the decoded alphanumeric sender (0xD0). */
  from: string;
  addressType: number;
  pid: number;
  dcs: number;
  /** SCTS as an ISO string in UTC (the time-zone octet is applied). */
  scts: string;
  /** The concatenation header (8-bit reference IE 00), if any. */
  concat: { ref: number; total: number; seq: number } | null;
  /** User data without the UDH: raw octets (UCS-2 big-endian for DCS 08). */
  userData: Buffer;
  /** The part's text when DCS is 08 (UCS-2) or 00 (GSM-7, default alphabet only). */
  text: string;
  /** TPDU length in octets (what `+CMGR:` reports). */
  tpduLength: number;
}

/** Decodes an SMS-DELIVER PDU in hex (with its SMSC header). Throws on a malformed PDU. */
export function decodeDeliverPdu(hex: string): DecodedDeliver {
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) throw new Error('PDU is not hex');
  const b = Buffer.from(hex, 'hex');
  let p = 0;
  const take = (n: number): Buffer => {
    if (p + n > b.length) throw new Error('PDU truncated');
    const out = b.subarray(p, p + n);
    p += n;
    return out;
  };
  const byte = (): number => take(1)[0] as number;
  const smscLen = byte();
  let smsc = '';
  if (smscLen > 0) {
    const type = byte();
    smsc = (type === 0x91 ? '+' : '') + swappedDigits(take(smscLen - 1));
  }
  const tpduStart = p;
  const firstOctet = byte();
  const oaLen = byte();
  const addressType = byte();
  const oa = take(Math.ceil(oaLen / 2));
  const from = (addressType & 0x70) === 0x50
    ? unpackSeptets(oa, Math.floor((oaLen * 4) / 7)).map((c) => GSM7[c] ?? '?').join('')
    : (addressType === 0x91 ? '+' : '') + swappedDigits(oa).slice(0, oaLen);
  const pid = byte();
  const dcs = byte();
  const s = [...take(7)].map((o) => (o & 0x0f) * 10 + (o >> 4));
  const tzByte = s[6] as number;
  const scts = new Date(Date.UTC(2000 + (s[0] as number), (s[1] as number) - 1, s[2], s[3], s[4], s[5]) - tzByte * 15 * 60_000).toISOString();
  const udl = byte();
  const rest = b.subarray(p);
  let concat: DecodedDeliver['concat'] = null;
  let udhLength = 0;
  if (firstOctet & 0x40) {
    udhLength = (rest[0] as number) + 1;
    const udh = rest.subarray(1, udhLength);
    for (let i = 0; i + 1 < udh.length;) {
      const id = udh[i] as number;
      const len = udh[i + 1] as number;
      if (id === 0x00 && len === 3) concat = { ref: udh[i + 2] as number, total: udh[i + 3] as number, seq: udh[i + 4] as number };
      i += 2 + len;
    }
  }
  let userData: Buffer;
  let text: string;
  if ((dcs & 0x0c) === 0x08) {
    if (rest.length !== udl) throw new Error(`UDL ${udl} but ${rest.length} octets of user data`);
    userData = rest.subarray(udhLength);
    text = Buffer.from(userData).swap16().toString('utf16le');
  } else {
    // GSM-7: UDL counts septets, the UDH (if any) padded to a septet boundary.
    const septets = unpackSeptets(rest, udl);
    const skip = Math.ceil((udhLength * 8) / 7);
    userData = rest.subarray(udhLength);
    text = septets.slice(skip).map((c) => GSM7[c] ?? '?').join('');
  }
  return { smsc, firstOctet, from, addressType, pid, dcs, scts, concat, userData, text, tpduLength: b.length - tpduStart };
}

function swappedDigits(octets: Buffer): string {
  let out = '';
  for (const o of octets) out += (o & 0x0f).toString(16) + (o >> 4).toString(16);
  return out.replace(/f$/i, '').toUpperCase();
}
