/**
 * The recorded Asterisk 18 + chan_dongle transcripts in test/fixtures/ami/ (their README says how
 * they were made): where they are, and how to turn their lines back into wire bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** test/fixtures/ami/, or the folder named by SIMCAST_FIXTURES (to try other recordings). */
export const fixturesDir: URL = process.env.SIMCAST_FIXTURES
  ? pathToFileURL(`${process.env.SIMCAST_FIXTURES.replace(/\/$/, '')}/`)
  : new URL('../fixtures/ami/', import.meta.url);

/** The transcript file names, sorted. Throws when there are none: a missing folder must fail loudly. */
export function transcriptFiles(): string[] {
  const files = readdirSync(fileURLToPath(fixturesDir)).filter((f) => f.endsWith('.txt')).sort();
  if (files.length === 0) throw new Error(`no AMI transcripts in ${fileURLToPath(fixturesDir)}`);
  return files;
}

export function readTranscriptText(name: string): string {
  return readFileSync(new URL(name, fixturesDir), 'utf8');
}

/** Decodes a Python bytes literal (b'...' / b"..."), the form every transcript line uses. */
export function decodePyBytes(literal: string): Buffer {
  const m = /^b(['"])(.*)\1$/s.exec(literal);
  if (!m) throw new Error(`not a bytes literal: ${literal.slice(0, 40)}`);
  const body = m[2] as string;
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') { out.push(ch.charCodeAt(0)); continue; }
    const next = body[++i] as string;
    if (next === 'x') { out.push(Number.parseInt(body.slice(i + 1, i + 3), 16)); i += 2; }
    else if (next in simple) out.push(simple[next] as number);
    else throw new Error(`unknown escape \\${next}`);
  }
  return Buffer.from(out);
}

/** Asterisk → client bytes of a transcript, chunked as they were read. */
export function serverChunks(name: string): Buffer[] {
  return readTranscriptText(name).split('\n')
    .map((l) => /^\[\s*[\d.]+\] <<< (b.*)$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(decodePyBytes);
}
