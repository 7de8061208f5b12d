/**
 * A small, strict reader for Asterisk's .conf syntax (main/config.c), enough to check the sample
 * files in asterisk/. It accepts:
 * - blank lines and comments: `;` to the end of the line (`\;` is a literal semicolon), and
 *   `;-- … --;` block comments, possibly over several lines (`;---…` is a line comment);
 * - `#include file`, `#include "file"`, `#tryinclude …` (recorded, not followed);
 * - section headers `[name]`, optionally followed by one parenthesised option list:
 *   `(+)` (add to an existing section), `(!)` (a template), template names, or a mix `(!,base)`;
 * - `key = value` and `key => value` (key: letters, digits, `_`, `-`, `.`);
 * - in dialplan files, `exten => ext,priority[(label)],App(args)` and
 *   `same => priority[(label)],App(args)` with priority `1`…, `n`, `s`/`same`, `next` or `hint`,
 *   balanced parentheses in the application part, `same` only after an `exten` of its context.
 * Anything else is an error naming file:line. Leading whitespace is allowed everywhere.
 */

export interface ConfEntry {
  readonly key: string;
  readonly op: '=' | '=>';
  readonly value: string;
  readonly line: number;
}

export interface ConfSection {
  readonly name: string;
  /** The parenthesised options after `]`, e.g. ['+'] or ['!'] or ['!', 'base']; [] without. */
  readonly options: readonly string[];
  readonly line: number;
  readonly entries: ConfEntry[];
}

/** One priority line of a dialplan context, after resolving `same =>` to its extension. */
export interface DialplanStep {
  readonly context: string;
  readonly exten: string;
  /** As written: `1`, `n`, `hint`… */
  readonly priority: string;
  readonly label: string | null;
  /** Application name, e.g. `UserEvent`; for `hint` the device string. */
  readonly app: string;
  /** The text inside the application's parentheses ('' without them). */
  readonly args: string;
  readonly line: number;
}

export interface ConfFile {
  readonly file: string;
  readonly sections: ConfSection[];
  readonly includes: { readonly directive: string; readonly target: string; readonly line: number }[];
  /** Dialplan lines (only when parsed with `dialplan: true`). */
  readonly steps: DialplanStep[];
}

export class ConfSyntaxError extends Error {
  constructor(readonly file: string, readonly line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'ConfSyntaxError';
  }
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const SECTION = /^\[([^\][]+)\](?:\(([^()]*)\))?$/;
const APP_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const PRIORITY = /^(\d+|n|next|s|same|hint)(?:\(([A-Za-z0-9_-]+)\))?$/;

/** Removes comments from one line; returns the rest and whether a block comment is still open. */
function stripComments(raw: string, inBlock: boolean): { text: string; inBlock: boolean } {
  let out = '';
  let i = 0;
  let block = inBlock;
  while (i < raw.length) {
    if (block) {
      const end = raw.indexOf('--;', i);
      if (end === -1) return { text: out, inBlock: true };
      i = end + 3;
      block = false;
      continue;
    }
    const ch = raw[i] as string;
    if (ch === '\\' && raw[i + 1] === ';') { out += '\\;'; i += 2; continue; }
    if (ch === ';') {
      // config.c: `;--` opens a block comment unless a third `-` follows (`;-----` is a plain comment).
      if (raw.startsWith(';--', i) && raw[i + 3] !== '-') { block = true; i += 3; continue; }
      break; // the rest of the line is a comment
    }
    out += ch;
    i++;
  }
  return { text: out, inBlock: block };
}

/** Splits on commas at parenthesis depth 0 (quotes are not special in the dialplan). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Parses `App(args)` or `App`; throws a plain message on a problem. */
function parseApplication(text: string): { app: string; args: string } {
  const t = text.trim();
  const open = t.indexOf('(');
  if (open === -1) {
    if (!APP_NAME.test(t)) throw new Error(`bad application "${t}"`);
    return { app: t, args: '' };
  }
  const app = t.slice(0, open).trim();
  if (!APP_NAME.test(app)) throw new Error(`bad application name "${app}"`);
  if (!t.endsWith(')')) throw new Error(`application "${app}" does not end with ")"`);
  let depth = 0;
  for (let i = open; i < t.length; i++) {
    if (t[i] === '(') depth++;
    if (t[i] === ')') depth--;
    if (depth < 0) throw new Error(`unbalanced ")" in ${app}(…)`);
    if (depth === 0 && i !== t.length - 1) throw new Error(`text after the closing ")" of ${app}(…)`);
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in ${app}(…)`);
  // ${…} and $[…] must close too.
  let brace = 0;
  let bracket = 0;
  for (const ch of t) {
    if (ch === '{') brace++;
    if (ch === '}') brace--;
    if (ch === '[') bracket++;
    if (ch === ']') bracket--;
    if (brace < 0 || bracket < 0) throw new Error(`unbalanced "}" or "]" in ${app}(…)`);
  }
  if (brace !== 0 || bracket !== 0) throw new Error(`unbalanced "{" or "[" in ${app}(…)`);
  return { app, args: t.slice(open + 1, -1) };
}

/**
 * Parses one file's text. `dialplan: true` also checks `exten`/`same` lines (extensions.conf
 * syntax) and fills `steps`; priorities must start at 1 (or hint) for each extension, numbered
 * ones must increase, and `n`/`s` need an earlier priority of the same extension.
 */
export function parseAsteriskConfig(file: string, text: string, opts: { dialplan?: boolean } = {}): ConfFile {
  const sections: ConfSection[] = [];
  const includes: ConfFile['includes'] = [];
  const steps: DialplanStep[] = [];
  let current: ConfSection | null = null;
  let inBlock = false;
  let blockStart = 0;
  // Dialplan state per context: last priority number per extension, and the extension `same` continues.
  let lastPriority = new Map<string, number>();
  let lastExten: string | null = null;

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const fail = (problem: string): never => { throw new ConfSyntaxError(file, lineNo, problem); };
    const wasBlock = inBlock;
    const stripped = stripComments(raw, inBlock);
    if (!wasBlock && stripped.inBlock) blockStart = lineNo;
    inBlock = stripped.inBlock;
    const line = stripped.text.trim();
    if (line === '') return;

    if (line.startsWith('#')) {
      const m = /^#(include|tryinclude)\s+("([^"]+)"|<([^>]+)>|(\S+))$/.exec(line);
      if (!m) fail(`unknown or malformed directive "${line}"`);
      includes.push({ directive: m![1] as string, target: (m![3] ?? m![4] ?? m![5]) as string, line: lineNo });
      return;
    }

    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) fail(`malformed section header "${line}"`);
      const name = (m![1] as string).trim();
      if (name === '') fail('empty section name');
      const options = m![2] === undefined ? [] : (m![2] as string).split(',').map((o) => o.trim());
      for (const o of options) {
        if (o !== '+' && o !== '!' && !KEY.test(o)) fail(`bad section option "${o}" in "${line}"`);
      }
      current = { name, options, line: lineNo, entries: [] };
      sections.push(current);
      lastPriority = new Map();
      lastExten = null;
      return;
    }

    const m = /^([^=]*?)\s*(=>|=)\s*(.*)$/.exec(line);
    if (!m) fail(`not a section, key = value, key => value, #include or comment: "${line}"`);
    const key = (m![1] as string).trim();
    const op = m![2] as '=' | '=>';
    const value = (m![3] as string).trim();
    if (!KEY.test(key)) fail(`bad key "${key}"`);
    if (current === null) fail(`"${key}" before any [section]`);
    const section = current as ConfSection;
    section.entries.push({ key, op, value, line: lineNo });

    if (!opts.dialplan) return;
    const k = key.toLowerCase();
    if (k !== 'exten' && k !== 'same') return;
    if (op !== '=>') fail(`${k} must use "=>"`);
    const parts = splitTopLevel(value);
    let exten: string;
    let rest: string[];
    if (k === 'exten') {
      if (parts.length < 3) fail(`exten needs "extension,priority,application": "${value}"`);
      exten = (parts[0] as string).trim();
      if (exten === '' || /\s/.test(exten)) fail(`bad extension "${exten}"`);
      rest = parts.slice(1);
    } else {
      if (lastExten === null) fail('"same =>" without an "exten =>" before it in this context');
      if (parts.length < 2) fail(`same needs "priority,application": "${value}"`);
      exten = lastExten as string;
      rest = parts;
    }
    const prio = PRIORITY.exec((rest[0] as string).trim());
    if (!prio) fail(`bad priority "${(rest[0] as string).trim()}" (a number, n, s or hint, with an optional (label))`);
    const p = prio![1] as string;
    const label = prio![2] ?? null;
    const appText = rest.slice(1).join(',');
    const before = lastPriority.get(exten);
    if (p === 'hint') {
      steps.push({ context: section.name, exten, priority: p, label, app: 'hint', args: appText.trim(), line: lineNo });
      lastExten = exten;
      return;
    }
    let number: number;
    if (/^\d+$/.test(p)) {
      number = Number(p);
      if (before === undefined && number !== 1) fail(`extension "${exten}" starts at priority ${number}, not 1`);
      if (before !== undefined && number <= before) fail(`priority ${number} of "${exten}" is not after ${before}`);
    } else if (p === 'n' || p === 'next') {
      if (before === undefined) fail(`priority "${p}" of "${exten}" has no earlier priority (the first must be 1)`);
      number = (before as number) + 1;
    } else {
      if (before === undefined) fail(`priority "${p}" of "${exten}" has no earlier priority`);
      number = before as number;
    }
    let app: { app: string; args: string };
    try {
      app = parseApplication(appText);
    } catch (err) {
      return fail((err as Error).message);
    }
    lastPriority.set(exten, number);
    lastExten = exten;
    steps.push({ context: section.name, exten, priority: p, label, app: app.app, args: app.args, line: lineNo });
  });
  if (inBlock) throw new ConfSyntaxError(file, blockStart, 'block comment ";--" never closed with "--;"');
  return { file, sections, includes, steps };
}

/** All entries with this key in the named section(s) (a name may occur more than once). */
export function entriesOf(conf: ConfFile, section: string, key: string): ConfEntry[] {
  return conf.sections.filter((s) => s.name === section).flatMap((s) => s.entries.filter((e) => e.key.toLowerCase() === key.toLowerCase()));
}

/** `read = call,user` → ['call', 'user'] (comma-separated, trimmed, lower-case). */
export function classList(value: string): string[] {
  return value.split(',').map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
}

/**
 * Splits the arguments of a dialplan `UserEvent(name,key: value,…)` the way app_userevent.c does:
 * the event name, then each argument split at its first `:` with the value trimmed.
 */
export function userEventArgs(args: string): { name: string; fields: Map<string, string> } {
  const [name, ...rest] = splitTopLevel(args);
  const fields = new Map<string, string>();
  for (const arg of rest) {
    const colon = arg.indexOf(':');
    if (colon === -1) continue;
    const key = arg.slice(0, colon).trim();
    if (!fields.has(key)) fields.set(key, arg.slice(colon + 1).trim());
  }
  return { name: (name ?? '').trim(), fields };
}
