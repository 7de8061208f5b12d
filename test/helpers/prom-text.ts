/**
 * A small, strict parser of the Prometheus text exposition format (version 0.0.4), for tests:
 * `# HELP name text`, `# TYPE name type`, `name{label="value",…} value [timestamp]`. It throws on
 * anything else, on a sample whose family has no TYPE (declared before it), on a second HELP or
 * TYPE for a family, on a bad name, label or value, and on a repeated series.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)\b/.test(line)) throw new Error(`malformed ${where}`);
        return; // a comment
      }
      const [, keyword, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!metricName.test(name)) throw new Error(`bad metric name, ${where}`);
      if (keyword === 'HELP') {
        if (helps.has(name)) throw new Error(`second HELP, ${where}`);
        helps.set(name, unescape(rest, false));
        const family = families.get(name);
        if (family) family.help = helps.get(name)!;
        return;
      }
      if (families.has(name)) throw new Error(`second TYPE, ${where}`);
      if (!types.has(rest as MetricType)) throw new Error(`unknown type, ${where}`);
      families.set(name, { name, type: rest as MetricType, help: helps.get(name) ?? null, samples: [] });
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (!family) throw new Error(`sample without a TYPE, ${where}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) throw new Error(`repeated series, ${where}`);
    series.add(key);
    if (family.type === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter, ${where}`);
    family.samples.push(sample);
  });
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  return families;
}

/** The family a sample belongs to: its own name, or a histogram/summary base name. */
function familyOf(families: Map<string, Family>, name: string): Family | undefined {
  const own = families.get(name);
  if (own) return own;
  const m = /^(.*)_(bucket|sum|count|created)$/.exec(name);
  if (!m) return undefined;
  const base = families.get(m[1]!);
  return base && (base.type === 'histogram' || base.type === 'summary') ? base : undefined;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`malformed sample, ${where}`);
  const labels: Record<string, string> = {};
  let rest = m[3] ?? '';
  while (rest !== '') {
    const lm = /^([^=]+)="((?:[^"\\]|\\.)*)"(,|$)/.exec(rest);
    if (!lm) throw new Error(`malformed labels, ${where}`);
    const name = lm[1]!;
    if (!labelName.test(name)) throw new Error(`bad label name ${name}, ${where}`);
    if (name in labels) throw new Error(`repeated label ${name}, ${where}`);
    labels[name] = unescape(lm[2]!, true);
    rest = rest.slice(lm[0].length);
  }
  return { name: m[1]!, labels, value: parseValue(m[4]!, where) };
}

function parseValue(text: string, where: string): number {
  // Prometheus reads these as Go's ParseFloat does, case-insensitively (prom-client writes `Nan`
  // for an event-loop lag that has not been sampled yet).
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value, ${where}`);
  return Number(text);
}

function unescape(text: string, quotes: boolean): string {
  return text.replace(/\\(.)/g, (all, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new Error(`bad escape ${all}`);
  });
}

/** Samples of `name` whose labels include `labels`. */
export function samples(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const family = familyOf(families, name);
  if (!family) return [];
  return family.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples (0 when none). */
export function total(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  return samples(families, name, labels).reduce((sum, s) => sum + s.value, 0);
}
