import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defaultWorkerLimits } from './lists/prepare-import-in-worker.js';

/**
 * Start-up configuration, parsed once from the environment into a frozen object that is passed
 * down. Only what is needed to start lives here; rates, limits and prices live in the database
 * and are edited on the pages.
 */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** null: embedded PostgreSQL (PGlite) under dataDir. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  /** null: start the built-in chan_dongle simulator; nothing is really sent. */
  readonly ami: { host: string; port: number; username: string; secret: string } | null;
  readonly sessionSecret: string | null;
  readonly instanceId: string;
  readonly logLevel: string;
  readonly cookieSecure: boolean;
  /** Heap limit of the list-import worker, MB (IMPORT_MAX_HEAP_MB). */
  readonly importMaxHeapMb: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Настройки запуска неверны:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalText = z.preprocess(blankToUndefined, z.string().optional());
const port = (what: string) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: `${what}: нужно число` })
      .int(`${what}: нужно целое число`)
      .min(0, `${what}: от 0 до 65535`)
      .max(65535, `${what}: от 0 до 65535`)
      .optional(),
  );

const schema = z.object({
  HOST: optionalText,
  PORT: port('PORT'),
  DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'DATABASE_URL: ожидается адрес вида postgres://user:password@host:5432/simcast',
  }),
  DATA_DIR: optionalText,
  AMI_HOST: optionalText,
  AMI_PORT: port('AMI_PORT'),
  AMI_USER: optionalText,
  AMI_SECRET: optionalText,
  SESSION_SECRET: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message: 'SESSION_SECRET: не короче 16 символов',
  }),
  INSTANCE_ID: optionalText.refine((v) => v === undefined || /^[A-Za-z0-9._-]{1,64}$/.test(v), {
    message: 'INSTANCE_ID: латинские буквы, цифры, точка, дефис, подчёркивание; до 64 символов',
  }),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL: одно из fatal, error, warn, info, debug, trace, silent',
    }).optional(),
  ),
  COOKIE_SECURE: z.preprocess(blankToUndefined, z.enum(['0', '1', 'true', 'false']).optional()),
  IMPORT_MAX_HEAP_MB: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'IMPORT_MAX_HEAP_MB: нужно число (мегабайты)' })
      .int('IMPORT_MAX_HEAP_MB: нужно целое число мегабайт')
      .min(64, 'IMPORT_MAX_HEAP_MB: от 64 до 16384')
      .max(16384, 'IMPORT_MAX_HEAP_MB: от 64 до 16384')
      .optional(),
  ),
});

/** Parses and validates the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  }
  const e = parsed.data;
  const amiKeys = [e.AMI_HOST, e.AMI_USER, e.AMI_SECRET];
  const amiGiven = amiKeys.some((v) => v !== undefined);
  if (amiGiven && amiKeys.some((v) => v === undefined)) {
    throw new ConfigError([
      'AMI: задайте все три AMI_HOST, AMI_USER и AMI_SECRET (AMI_PORT по умолчанию 5038), или ни одного — тогда запустится встроенный имитатор модемов',
    ]);
  }
  return Object.freeze({
    host: e.HOST ?? '127.0.0.1',
    port: e.PORT ?? 3000,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: path.resolve(cwd, e.DATA_DIR ?? 'data'),
    ami: amiGiven
      ? Object.freeze({ host: e.AMI_HOST!, port: e.AMI_PORT ?? 5038, username: e.AMI_USER!, secret: e.AMI_SECRET! })
      : null,
    sessionSecret: e.SESSION_SECRET ?? null,
    instanceId: e.INSTANCE_ID ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    logLevel: e.LOG_LEVEL ?? 'info',
    cookieSecure: e.COOKIE_SECURE === '1' || e.COOKIE_SECURE === 'true',
    importMaxHeapMb: e.IMPORT_MAX_HEAP_MB ?? defaultWorkerLimits.maxHeapMb,
  });
}
