import { ru } from '../i18n/ru.js';

/**
 * Our own tiny template language, not Handlebars: staff name fields by their column headers, which
 * are Cyrillic and may hold spaces ("{{Номер заказа}}"), and that is all the language does. No
 * helpers, no escaping (SMS is plain text), no logic — so there is nothing to inject.
 *
 * Syntax: `{{ name }}` where the name is trimmed, or `{{ name | default }}`: the default (trimmed) is
 * used when the row's cell is empty, so `{{Имя|клиент}}` reads «клиент» for a row without a name
 * instead of flagging it. `{{Имя|}}` says "may be empty". Everything else is literal text, including a
 * single `{` or `}`. Unbalanced double braces are errors ({@link TemplateError}) because a stray
 * `{{Имя}` would otherwise go out to thousands of people verbatim.
 */

/** A piece of a parsed template. `source` is the field exactly as written, braces included. */
export type TemplatePart =
  | { type: 'text'; text: string }
  /** `fallback` is the text after `|` (trimmed), used when the cell is empty; absent: no default. */
  | { type: 'field'; name: string; source: string; fallback?: string };

/** What is wrong with a template's braces. */
export type TemplateErrorCode = 'unclosed' | 'empty' | 'stray-close' | 'brace-in-name' | 'newline-in-name';

/** A syntax error in a template; `message` is Russian and quotes the text at fault. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly code: TemplateErrorCode,
    /** The piece of the template at fault, as the person wrote it. */
    readonly fragment: string,
    /** Offset of the fragment in the (LF-normalised) template. */
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/** Normalises line breaks: a template pasted from Windows has CRLF, an SMS needs LF. */
export function normaliseTemplate(template: string): string {
  return template.replace(/\r\n?/g, '\n');
}

// renderTemplate runs once per recipient with the same template: keep the last parse.
let cachedSource: string | null = null;
let cachedParts: readonly TemplatePart[] = [];

/**
 * Splits a template into literal text and fields.
 * @throws TemplateError when the braces do not balance, a field is empty, or a name has braces.
 */
export function parseTemplate(template: string): TemplatePart[] {
  return [...parsed(template)];
}

/** The cached, shared parse: callers must not change it. */
function parsed(template: string): readonly TemplatePart[] {
  if (template !== cachedSource) {
    cachedParts = parse(normaliseTemplate(template));
    cachedSource = template;
  }
  return cachedParts;
}

function parse(t: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf('{{', i);
    const textEnd = open < 0 ? t.length : open;
    const text = t.slice(i, textEnd);
    const stray = text.indexOf('}}');
    if (stray >= 0) {
      const at = i + stray;
      const fragment = around(t, at, 2);
      throw new TemplateError('stray-close', fragment, at, ru.templates.syntax.strayClose(fragment));
    }
    if (text) parts.push({ type: 'text', text });
    if (open < 0) break;

    const close = t.indexOf('}}', open + 2);
    const nextOpen = t.indexOf('{{', open + 2);
    const lineEnd = t.indexOf('\n', open);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      // "{{Имя} …" or "{{Имя …": show the field up to its first "}" or the end of its line.
      const limit = [nextOpen, lineEnd, t.length].filter((n) => n >= 0).reduce((a, b) => Math.min(a, b));
      const brace = t.indexOf('}', open + 2);
      const end = brace >= 0 && brace < limit ? brace + 1 : limit;
      const fragment = shorten(t.slice(open, end).trimEnd());
      throw new TemplateError('unclosed', fragment, open, ru.templates.syntax.unclosed(fragment));
    }
    const inner = t.slice(open + 2, close);
    if (inner.includes('\n')) {
      const fragment = shorten(t.slice(open, lineEnd).trimEnd());
      throw new TemplateError('newline-in-name', fragment, open, ru.templates.syntax.newlineInName(fragment));
    }
    // "{{{Имя}}}" or "{{Имя}}}": a third brace is a typo, not text the customer should receive.
    if (inner.includes('{') || inner.includes('}') || t[close + 2] === '}') {
      const fragment = shorten(t.slice(open, t[close + 2] === '}' ? close + 3 : close + 2));
      throw new TemplateError('brace-in-name', fragment, open, ru.templates.syntax.braceInName(fragment));
    }
    const bar = inner.indexOf('|');
    const name = (bar < 0 ? inner : inner.slice(0, bar)).trim();
    if (name === '') throw new TemplateError('empty', t.slice(open, close + 2), open, ru.templates.syntax.empty);
    const source = t.slice(open, close + 2);
    parts.push(bar < 0 ? { type: 'field', name, source } : { type: 'field', name, source, fallback: inner.slice(bar + 1).trim() });
    i = close + 2;
  }
  return parts;
}

function around(t: string, at: number, width: number): string {
  const lineStart = t.lastIndexOf('\n', at) + 1;
  const lineEndRaw = t.indexOf('\n', at);
  const lineEnd = lineEndRaw < 0 ? t.length : lineEndRaw;
  const start = Math.max(lineStart, at - 20);
  const end = Math.min(lineEnd, at + width + 20);
  return (start > lineStart ? '…' : '') + t.slice(start, end).trim() + (end < lineEnd ? '…' : '');
}

function shorten(s: string): string {
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/**
 * The Russian description of the template's first syntax error, or null when it parses.
 * For forms: never throws.
 */
export function templateProblem(template: string): string | null {
  try {
    parsed(template);
    return null;
  } catch (error) {
    if (error instanceof TemplateError) return error.message;
    throw error;
  }
}

/**
 * Field names used by a template, trimmed, each once, in order of first use.
 * @throws TemplateError on a syntax error.
 */
export function templateFields(template: string): string[] {
  const names: string[] = [];
  for (const part of parsed(template)) {
    if (part.type === 'field' && !names.includes(part.name)) names.push(part.name);
  }
  return names;
}

/**
 * A lenient key for matching a field to a column: case, ё/е and runs of spaces (incl. no-break
 * spaces) do not matter, because staff type "{{имя}}" for the column "Имя" and expect it to work.
 */
export function fieldKey(name: string): string {
  return name.replace(/[\s\u00a0]+/g, ' ').trim().toLocaleLowerCase('ru-RU').replaceAll('ё', 'е');
}

/**
 * The column a field refers to: the exact name if there is one, else the one column with the same
 * {@link fieldKey}. Ambiguous lenient matches ("имя" and "ИМЯ" both present) resolve to none.
 */
export function resolveField(name: string, columns: readonly string[]): string | undefined {
  if (columns.includes(name)) return name;
  const key = fieldKey(name);
  let found: string | undefined;
  for (const column of columns) {
    if (fieldKey(column) !== key) continue;
    if (found !== undefined) return undefined;
    found = column;
  }
  return found;
}

/**
 * Renders a template for one recipient. Values go in verbatim (plain text, no escaping).
 * A field is `missing` when no column matches it or its value is empty or only whitespace, and it has
 * no default; the text still renders (with the value, or nothing) so that staff see the gap in the
 * preview. A field with a default (`{{Имя|клиент}}`) is never missing.
 * @throws TemplateError on a syntax error.
 */
export function renderTemplate(template: string, fields: Readonly<Record<string, string>>): { text: string; missing: string[] } {
  const parts = parsed(template);
  let text = '';
  const missing: string[] = [];
  let columns: string[] | null = null;
  for (const part of parts) {
    if (part.type === 'text') {
      text += part.text;
      continue;
    }
    let value: string | undefined;
    if (Object.hasOwn(fields, part.name)) value = fields[part.name];
    else {
      columns ??= Object.keys(fields);
      const column = resolveField(part.name, columns);
      if (column !== undefined) value = fields[column];
    }
    const present = typeof value === 'string' ? value : '';
    if (present.trim() === '') {
      if (part.fallback !== undefined) {
        text += part.fallback;
        continue;
      }
      if (!missing.includes(part.name)) missing.push(part.name);
    }
    text += present;
  }
  return { text, missing };
}

/**
 * Fields of the template that match no column at all (as opposed to columns that are empty in some
 * rows, which {@link renderTemplate} reports per row).
 * @throws TemplateError on a syntax error.
 */
export function unknownFields(template: string, columns: readonly string[]): string[] {
  return templateFields(template).filter((name) => resolveField(name, columns) === undefined);
}

/**
 * Like {@link unknownFields}, but a field whose every use has a default is not counted: a saved text
 * with `{{Имя|клиент}}` may go to a list that has no «Имя» column at all, and reads «клиент» there.
 * @throws TemplateError on a syntax error.
 */
export function unknownFieldsWithoutDefault(template: string, columns: readonly string[]): string[] {
  const needed: string[] = [];
  for (const part of parsed(template)) {
    if (part.type === 'field' && part.fallback === undefined && !needed.includes(part.name)) needed.push(part.name);
  }
  return needed.filter((name) => resolveField(name, columns) === undefined);
}
