import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { AuditLog } from './audit/audit-log.js';
import { actorLabel, systemActor } from './auth/actor.js';
import { hashPassword, passwordProblem } from './auth/password.js';
import { TokensRepo } from './auth/tokens.js';
import { loginPattern, UsersRepo, type Role } from './auth/users-repo.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirLockedError } from './db/knex.js';
import { migrateLatest } from './db/migrations.js';
import { createLogger } from './logger.js';
import { openDatabase, startService } from './service.js';

const usage = `simcast — SMS-рассылки через SIM-карты модемов АТС

  npx simcast serve                                  запустить службу (по умолчанию)
  npx simcast migrate                                применить миграции базы данных
  npx simcast user add --login ИМЯ [--role admin|staff] [--password-stdin]
                                                     создать пользователя (или сменить пароль)
                                                     (по умолчанию --role staff)
  npx simcast token create --name ИМЯ [--role admin|staff]
                                                     выдать токен для API (показывается один раз;
                                                     по умолчанию --role admin)

Пока служба работает, пользователей и токены удобнее создавать на страницах
«Пользователи» и «Токены API» (нужен вход администратором).
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      login: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command = 'serve', sub] = positionals;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const config = loadConfig(process.env);

  if (command === 'serve') return serve(config);
  if (command === 'migrate') {
    return withDb(config, async (knex) => {
      const applied = await migrateLatest(knex);
      console.log(applied.length ? `Применены миграции (${applied.length}):\n  ${applied.join('\n  ')}` : 'База данных уже в актуальном состоянии.');
    }, { migrateFirst: false });
  }
  if (command === 'user' && sub === 'add') {
    const login = values.login?.trim();
    if (!login || !loginPattern.test(login)) return fail('Укажите --login: буквы, цифры, . _ @ -, до 64 символов.');
    const role = values.role ?? 'staff';
    if (role !== 'admin' && role !== 'staff') return fail('--role: admin или staff.');
    const password = await readPassword(values['password-stdin']);
    const problem = passwordProblem(password);
    if (problem) return fail(problem);
    const hash = await hashPassword(password);
    return withDb(config, async (knex) => {
      const users = new UsersRepo(knex);
      const { user, created } = await users.upsert(login, hash, role as Role);
      const actor = systemActor('cli');
      const now = systemClock.now();
      if (created) {
        await new AuditLog(knex).record(knex, actor, now, 'user.create', login, { role });
      } else {
        // A new password ends the user's open sessions, as on the «Пользователи» page.
        const ended = await users.deleteSessions(knex, user.id);
        await new AuditLog(knex).record(knex, actor, now, 'user.password-reset', login, { role, sessionsEnded: ended });
      }
      console.log(created ? `Пользователь «${login}» создан (${role}).` : `Пароль и роль пользователя «${login}» обновлены.`);
    });
  }
  if (command === 'token' && sub === 'create') {
    const name = values.name?.trim();
    if (!name || name.length > 100) return fail('Укажите --name: для чего токен (например, crm), до 100 символов.');
    const role = values.role ?? 'admin';
    if (role !== 'admin' && role !== 'staff') return fail('--role: admin или staff.');
    return withDb(config, async (knex) => {
      const actor = systemActor('cli');
      const { id, token } = await knex.transaction(async (trx) => {
        const created = await new TokensRepo(knex).create(name, { role, createdBy: actorLabel(actor) }, trx);
        await new AuditLog(knex).record(trx, actor, systemClock.now(), 'token.create', name, { id: created.id, role });
        return created;
      });
      console.log(`Токен «${name}» №${id}, роль ${role} (сохраните его: он показывается один раз):\n${token}`);
    });
  }
  process.stderr.write(usage);
  return 2;
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  // Listen for the stop signal before starting, so a SIGTERM during start-up still ends cleanly.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const service = await startService(config, log);
  await stopped;
  log.info('stopping');
  await service.close();
  return 0;
}

/** Opens the database, brings it up to date (unless the command is the migration itself), runs `work`. */
async function withDb(
  config: Config,
  work: (knex: ReturnType<typeof openDatabase>['knex']) => Promise<void>,
  { migrateFirst = true } = {},
): Promise<number> {
  const db = openDatabase(config);
  try {
    if (migrateFirst) await migrateLatest(db.knex);
    await work(db.knex);
    return 0;
  } finally {
    await db.close();
  }
}

/** From stdin when piped (scripts), else asked twice on the terminal without echo. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  const first = await ask('Пароль: ');
  const second = await ask('Пароль ещё раз: ');
  if (first !== second) throw new ConfigError(['Пароли не совпадают.']);
  return first;
}

function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    // Hide typed characters: print the prompt once, swallow the echo.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(prompt)) process.stdout.write(prompt);
    };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof DataDirLockedError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
