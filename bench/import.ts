/**
 * `npm run bench:import` — what a big upload costs, stage by stage, against SheetJS alone.
 *
 * Builds (in memory) a BENCH_ROWS-row (default 100 000) .xlsx as Excel saves it — columns Телефон,
 * Имя, Заказ, Сумма; phones as numbers and as text in mixed Russian formats, duplicates and junk —
 * and a cp1251 `;` CSV of the same rows, then times:
 *   xlsx  baseline: XLSX.read + sheet_to_json(header:1, raw:true), SheetJS defaults
 *         baseline: the same with readSheet's read options (dense, sheets:0, cellNF, raw)
 *         readSheet
 *         prepareImport: readSheet + header row + detectPhoneColumn + buildImport
 *         ListsService.importFile into PostgreSQL (its own database, dropped at the end)
 *   csv   baseline: cp1251 decode + split into lines and cells
 *         readSheet
 * Each stage runs in its own fresh process (this file, forked with `--stage N`; the files travel
 * over IPC) so that its peak RSS is its own, and runs twice there (run 1 includes JIT warm-up).
 * Memory: a full GC before each run, then heap growth and RSS right after the run with its result
 * still referenced; GC time is V8's own pause time during the run (PerformanceObserver 'gc');
 * peak RSS is the child's getrusage maxrss (it never goes down, so run 2 shows only a new peak).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as XLSX from 'xlsx';
import * as cptable from 'xlsx/dist/cpexcel.full.mjs';
import { systemClock } from '../src/clock.js';
import { openPostgres, type Database } from '../src/db/knex.js';
import { prepareImport } from '../src/lists/prepare-import.js';
import { ListsRepo } from '../src/lists/lists-repo.js';
import { ListsService } from '../src/lists/lists-service.js';
import { readSheet } from '../src/lists/sheet.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { createTestDatabase } from '../test/helpers/test-db.js';

const ROWS = (() => {
  const raw = process.env.BENCH_ROWS;
  const n = raw ? Number(raw) : 100_000;
  if (!Number.isInteger(n) || n < 10 || n > 200_000) {
    process.stderr.write(`BENCH_ROWS must be an integer 10..200000, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
})();
const RUNS = 2;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const codepages = cptable as unknown as { utils: { encode(cp: number, data: string): Uint8Array | number[] | string; decode(cp: number, data: Uint8Array): string } };

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

// ------------------------------------------------------------------------------- the data

const FIRST = ['Анна', 'Иван', 'Мария', 'Сергей', 'Ольга', 'Дмитрий', 'Елена', 'Алексей', 'Наталья', 'Павел', 'Юлия', 'Фёдор'];
const LAST = ['Иванова', 'Петров', 'Смирнова', 'Кузнецов', 'Попова', 'Соколов', 'Лебедева', 'Козлов', 'Новикова', 'Морозов'];
const JUNK = ['', 'нет', 'не звонить', '8 (845) 2-25-57-75', '7,91235E+11', '8 800 555-35-35', '+7 912 345 67 89, +7 913 111 22 33', '12345', '+7 701 123 45 67', 'abc@mail.ru'];

/** One data row: [phone, name, order, sum]; the phone cell is a number or text in one of many forms. */
function makeRows(n: number): { rows: unknown[][]; kinds: Record<string, number> } {
  // Seeded, so every run reads the same file.
  const random = seededRandom(20261126);
  const rows: unknown[][] = [];
  const kinds: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const ten = 9120000000 + ((i * 7919) % 9_000_000); // 10 digits, 912…, unique for i < 9e6 / gcd
    const d = String(ten);
    const fmt = `${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}`;
    let phone: unknown;
    let kind: string;
    const r = random();
    if (r < 0.2) [phone, kind] = [Number(`7${d}`), 'number 7XXXXXXXXXX'];
    else if (r < 0.3) [phone, kind] = [ten, 'number XXXXXXXXXX'];
    else if (r < 0.45) [phone, kind] = [`8 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`, 'text 8 (9XX) XXX-XX-XX'];
    else if (r < 0.6) [phone, kind] = [`+7 ${fmt}`, 'text +7 9XX XXX-XX-XX'];
    else if (r < 0.7) [phone, kind] = [`8${d}`, 'text 89XXXXXXXXX'];
    else if (r < 0.75) [phone, kind] = [`+7${d}`, 'text +79XXXXXXXXX'];
    else if (r < 0.8) [phone, kind] = [`8-${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`, 'text 8-9XX-XXX-XX-XX'];
    else if (r < 0.9 && i > 0) {
      // A number that already appeared earlier, written differently.
      const j = Math.floor(random() * i);
      phone = `+7 (${String(9120000000 + ((j * 7919) % 9_000_000)).slice(0, 3)}) ${String(9120000000 + ((j * 7919) % 9_000_000)).slice(3)}`;
      kind = 'duplicate (text)';
    } else [phone, kind] = [JUNK[Math.floor(random() * JUNK.length)]!, 'junk / landline / foreign / empty'];
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const name = `${FIRST[Math.floor(random() * FIRST.length)]} ${LAST[Math.floor(random() * LAST.length)]}`;
    const order = i % 3 === 0 ? `A-${100000 + i}` : 100000 + i;
    const sum = Math.round((500 + random() * 20000) * 100) / 100;
    rows.push([phone, name, order, sum]);
  }
  return { rows, kinds };
}

function buildXlsx(rows: unknown[][]): Buffer {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([['Телефон', 'Имя', 'Заказ', 'Сумма'], ...rows]), 'Лист1');
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', bookSST: true, compression: true }) as Buffer;
}

/** What Russian Excel writes for «CSV (разделители — точка с запятой)»: cp1251, `;`, CRLF, decimal comma. */
function buildCsv1251(rows: unknown[][]): Buffer {
  const lines = ['Телефон;Имя;Заказ;Сумма'];
  for (const [phone, name, order, sum] of rows) {
    lines.push(`${String(phone)};${String(name)};${String(order)};${String(sum).replace('.', ',')}`);
  }
  const encoded = codepages.utils.encode(1251, `${lines.join('\r\n')}\r\n`);
  return typeof encoded === 'string' ? Buffer.from(encoded, 'latin1') : Buffer.from(encoded);
}

// ------------------------------------------------------------------------------- stages

interface StageInput {
  xlsx: Buffer;
  csv: Buffer;
  /** A fresh migrated database for the importFile stage. */
  dbUrl: string;
}

interface Stage {
  name: string;
  /** Runs once; returns what the run produced (kept referenced while memory is read) and a note. */
  run(input: StageInput, context: { service?: ListsService }): Promise<{ result: unknown; note: string }> | { result: unknown; note: string };
  needsDb?: boolean;
}

const stages: Stage[] = [
  {
    name: 'xlsx  SheetJS read+sheet_to_json, defaults [baseline]',
    run: ({ xlsx }) => {
      const wb = XLSX.read(xlsx, { type: 'buffer' });
      const aoa = XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[wb.SheetNames[0]!]!, { header: 1, raw: true });
      return { result: aoa, note: `${aoa.length} rows` };
    },
  },
  {
    name: "xlsx  SheetJS read+sheet_to_json, readSheet's options [baseline]",
    run: ({ xlsx }) => {
      const wb = XLSX.read(xlsx, { type: 'buffer', dense: true, sheets: 0, cellNF: true, cellDates: false, raw: true, codepage: 1251 });
      const aoa = XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[wb.SheetNames[0]!]!, { header: 1, raw: true });
      return { result: aoa, note: `${aoa.length} rows` };
    },
  },
  {
    name: 'xlsx  readSheet',
    run: ({ xlsx }) => {
      const sheet = readSheet(xlsx, 'клиенты.xlsx');
      return { result: sheet, note: `${sheet.rows.length} rows` };
    },
  },
  {
    name: 'xlsx  prepareImport (readSheet, header row, phone column, buildImport)',
    run: ({ xlsx }) => {
      const prepared = prepareImport(xlsx, 'клиенты.xlsx');
      if (prepared.kind !== 'ok') throw new Error(`not imported: ${prepared.kind}`);
      const r = prepared.result;
      return { result: r, note: `header row ${prepared.headerRow}, column ${prepared.phoneColumn}: ${r.contacts.length} contacts, ${r.duplicates.length} dup, ${r.rejected.length} rejected` };
    },
  },
  {
    name: 'xlsx  ListsService.importFile → PostgreSQL',
    needsDb: true,
    run: async ({ xlsx }, { service }) => {
      const list = await service!.importFile({ data: xlsx, fileName: 'клиенты.xlsx', name: 'Клиенты', createdBy: null });
      return { result: list, note: `list ${list.id}: ${list.imported} imported, ${list.duplicates.length} dup, ${list.rejected.length} rejected` };
    },
  },
  {
    name: 'csv   cp1251 decode + split lines and ";" [baseline]',
    run: ({ csv }) => {
      const aoa = codepages.utils.decode(1251, csv).split('\r\n').map((line) => line.split(';'));
      return { result: aoa, note: `${aoa.length} lines` };
    },
  },
  {
    name: 'csv   readSheet (cp1251, ";")',
    run: ({ csv }) => {
      const sheet = readSheet(csv, 'клиенты.csv');
      return { result: sheet, note: `${sheet.rows.length} rows, columns ${sheet.columns.join('|')}` };
    },
  },
];

// ------------------------------------------------------------------------------- one stage, in a child

interface RunFigures {
  wallMs: number;
  cpuMs: number;
  gcMs: number;
  gcCount: number;
  /** Heap growth with the result still referenced, after a full GC before the run. */
  heapDelta: number;
  /** RSS right after the run. */
  rss: number;
  /** The child's peak RSS so far (never goes down). */
  maxRss: number;
  note: string;
}

interface StageReport {
  type: 'report';
  /** RSS of the child after loading everything and receiving the files, before the first run (after GC). */
  readyRss: number;
  /** The child's peak RSS before the first run (start-up, loading, receiving the files). */
  readyMaxRss: number;
  runs: RunFigures[];
}

async function runStageInChild(index: number, input: StageInput): Promise<StageReport> {
  const stage = stages[index]!;
  const gcEntries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

  let db: Database | null = null;
  const context: { service?: ListsService } = {};
  if (stage.needsDb) {
    db = openPostgres(input.dbUrl);
    context.service = new ListsService(new ListsRepo(db.knex), systemClock);
    await db.knex.raw('select 1'); // connect before timing
  }
  gc();
  await settle();
  const readyRss = process.memoryUsage().rss;
  const readyMaxRss = process.resourceUsage().maxRSS * 1024;
  const runs: RunFigures[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      gc();
      await settle();
      const heap0 = process.memoryUsage().heapUsed;
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      let out: { result: unknown; note: string } | null = await stage.run(input, context);
      const end = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const mem = process.memoryUsage();
      const maxRss = process.resourceUsage().maxRSS * 1024;
      const note = out.note;
      out = null; // release before the next run
      await settle();
      const during = gcEntries.filter((e) => e.startTime >= start && e.startTime <= end);
      runs.push({
        wallMs: end - start,
        cpuMs: (cpu.user + cpu.system) / 1000,
        gcMs: during.reduce((sum, e) => sum + e.duration, 0),
        gcCount: during.length,
        heapDelta: mem.heapUsed - heap0,
        rss: mem.rss,
        maxRss,
        note,
      });
    }
  } finally {
    observer.disconnect();
    await db?.close();
  }
  return { type: 'report', readyRss, readyMaxRss, runs };
}

/** Forks this file for one stage (a fresh process per stage, so its peak RSS is its own). */
async function forkStage(index: number, input: StageInput): Promise<StageReport> {
  const child = fork(fileURLToPath(import.meta.url), ['--stage', String(index)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced', // Buffers travel as bytes
  });
  const exited = once(child, 'exit');
  try {
    const report = await new Promise<StageReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stage "${stages[index]!.name}" took over ${STAGE_TIMEOUT_MS} ms`)), STAGE_TIMEOUT_MS);
      child.on('message', (m: { type?: string; error?: string }) => {
        if (m.type === 'ready') child.send(input);
        else if (m.type === 'report') {
          clearTimeout(timer);
          resolve(m as unknown as StageReport);
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.error));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stage child exited with ${code}`));
      });
    });
    return report;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.disconnect();
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
      if (!gone) {
        child.kill('SIGKILL'); // our own child, by its handle
        await exited;
      }
    }
  }
}

async function childMain(index: number): Promise<void> {
  process.once('message', (input: StageInput) => {
    // Advanced serialization delivers Uint8Array-backed Buffers; make sure they are Buffers.
    const fixed: StageInput = { ...input, xlsx: Buffer.from(input.xlsx.buffer, input.xlsx.byteOffset, input.xlsx.byteLength), csv: Buffer.from(input.csv.buffer, input.csv.byteOffset, input.csv.byteLength) };
    runStageInChild(index, fixed).then(
      (report) => process.send!(report, () => process.disconnect()),
      (error: unknown) => process.send!({ type: 'error', error: error instanceof Error ? error.stack ?? error.message : String(error) }, () => process.disconnect()),
    );
  });
  process.send!({ type: 'ready' });
}

// ------------------------------------------------------------------------------- main

const STAGE_TIMEOUT_MS = 180_000;

async function main(): Promise<void> {
  const tAll = process.hrtime.bigint();
  const cpus = os.cpus();
  process.stdout.write(`simcast import bench — ${cpus.length} cores (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, SheetJS ${XLSX.version}\n`);

  const t = process.hrtime.bigint();
  const { rows, kinds } = makeRows(ROWS);
  const xlsx = buildXlsx(rows);
  const csv = buildCsv1251(rows);
  rows.length = 0;
  process.stdout.write(
    `built ${ROWS} rows in ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms: .xlsx ${mb(xlsx.length)} MB, cp1251 CSV ${mb(csv.length)} MB\n` +
      `phone cells: ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}\n` +
      `each stage runs ${RUNS}× in its own fresh process (run 1 includes JIT warm-up); a full GC before each run\n\n`,
  );

  const testDb = await createTestDatabase();
  const header = ['stage', 'run', 'wall ms', 'CPU ms', 'GC ms (n)', 'heap +MB', 'RSS ready→after MB', 'peak RSS MB', 'note'];
  const table: string[][] = [header];
  const best: number[] = [];
  const peaks: number[] = [];
  let failed = false;
  try {
    for (const [index, stage] of stages.entries()) {
      let report: StageReport;
      try {
        report = await forkStage(index, { xlsx, csv, dbUrl: testDb.url });
      } catch (error) {
        failed = true;
        process.stderr.write(`! ${stage.name}: ${(error as Error).message}\n`);
        table.push([stage.name, '-', 'failed', '', '', '', '', '', '']);
        best.push(NaN);
        peaks.push(NaN);
        continue;
      }
      best.push(Math.min(...report.runs.map((r) => r.wallMs)));
      peaks.push(Math.max(...report.runs.map((r) => r.maxRss)));
      for (const [i, r] of report.runs.entries()) {
        table.push([
          i === 0 ? stage.name : '',
          String(i + 1),
          r.wallMs.toFixed(0),
          r.cpuMs.toFixed(0),
          `${r.gcMs.toFixed(0)} (${r.gcCount})`,
          mb(r.heapDelta),
          `${mb(report.readyRss)}→${mb(r.rss)}`,
          r.maxRss > (i === 0 ? report.readyMaxRss : report.runs[i - 1]!.maxRss) ? mb(r.maxRss) : `(≤${mb(i === 0 ? report.readyMaxRss : r.maxRss)})`,
          r.note,
        ]);
      }
      process.stdout.write(`  ${stage.name}: done\n`);
    }
    const stored = await testDb.db.knex('list_contacts').count({ n: '*' }).first();
    process.stdout.write(`  list_contacts rows after the importFile runs: ${String(stored?.n)}\n\n`);
  } finally {
    await testDb.drop();
  }

  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  for (const [i, r] of table.entries()) {
    process.stdout.write(`${r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()}\n`);
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
  const [base, baseSame, ours, withImport, full, csvBase, csvOurs] = best as [number, number, number, number, number, number, number];
  const peakOf = (i: number) => peaks[i] ?? NaN;
  process.stdout.write(
    `\nbest of ${RUNS}, ms — xlsx: SheetJS alone ${base.toFixed(0)} (with readSheet's options ${baseSame.toFixed(0)}); readSheet ${ours.toFixed(0)}; ` +
      `prepareImport ${withImport.toFixed(0)} (header, phones ≈ ${(withImport - ours).toFixed(0)}); importFile ${full.toFixed(0)} (worker, PostgreSQL + repo ≈ ${(full - withImport).toFixed(0)})\n` +
      `END TO END: import of ${ROWS} rows ${full.toFixed(0)} ms vs SheetJS alone (defaults) ${base.toFixed(0)} ms = ×${(full / base).toFixed(2)} (target ≤ ×1.5); ` +
      `peak RSS ${mb(peakOf(4))} MB (SheetJS alone ${mb(peakOf(0))} MB)\n` +
      `csv: baseline ${csvBase.toFixed(0)}, readSheet ${csvOurs.toFixed(0)} (×${(csvOurs / csvBase).toFixed(1)})\n` +
      `total wall ${(Number(process.hrtime.bigint() - tAll) / 1e9).toFixed(1)} s\n`,
  );
  if (failed) process.exitCode = 1;
}

if (process.argv[2] === '--stage') await childMain(Number(process.argv[3]));
else await main();
