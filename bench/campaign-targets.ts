/**
 * `npx tsx bench/campaign-targets.ts` — what the campaign preview costs at BENCH_ROWS (default
 * 100 000) recipients, as staff use it: a first preview, then searches, the same preview again, a
 * corrected text, translit, and the creation; beside the baseline measured in the same run: a raw
 * read of the same lists' contacts (what no preview can beat without keeping them).
 *
 * Lists: one of BENCH_ROWS rows (baseline), and two halves of it with 10 % of numbers in both.
 * Each figure is the median of BENCH_RUNS (default 3) runs, on a fresh PostgreSQL database
 * (test/helpers/test-db.ts), nothing else running. Heap after each step is printed too.
 */
import { CampaignsRepo } from '../src/campaigns/campaigns-repo.js';
import { CampaignsService } from '../src/campaigns/campaigns-service.js';
import { systemClock } from '../src/clock.js';
import { campaignCompliance } from '../src/compliance/compliance-repo.js';
import { exclusionReasons } from '../src/i18n/ru.js';
import { ListsRepo, type NewContact } from '../src/lists/lists-repo.js';
import { SettingsRepo } from '../src/settings/settings-repo.js';
import { createTestDatabase } from '../test/helpers/test-db.js';

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const names = ['Анна', 'Сергей', 'Ольга', 'Пётр', 'Мария', ''];
const contact = (i: number): NewContact => ({
  rowNumber: i + 2,
  phone: `+7912${String(i).padStart(7, '0')}`,
  fields: { Телефон: `8912${String(i).padStart(7, '0')}`, Имя: names[i % names.length]!, Город: i % 3 ? 'Анталья' : 'Кемер', Заказ: String(80_000 + i) },
});

const testDb = await createTestDatabase();
try {
  const knex = testDb.db.knex;
  const lists = new ListsRepo(knex);
  const settings = new SettingsRepo(knex);
  const service = new CampaignsService({ repo: new CampaignsRepo(knex), lists, settings, clock: systemClock, compliance: campaignCompliance(knex, exclusionReasons) });
  const meta = (name: string) => ({ name, fileName: `${name}.xlsx`, columns: ['Телефон', 'Имя', 'Город', 'Заказ'], phoneColumn: 'Телефон', duplicates: [], rejected: [], createdBy: null });
  const all = Array.from({ length: rows }, (_, i) => contact(i));
  const half = Math.floor(rows / 2);
  const overlap = Math.floor(rows / 10);
  const one = await lists.create(meta('Все'), all, new Date());
  const a = await lists.create(meta('Первая половина'), all.slice(0, half + overlap), new Date());
  const b = await lists.create({ ...meta('Вторая половина'), tags: ['Лето'] }, all.slice(half), new Date());

  const template = '{{Имя|клиент}}, ваш заказ №{{Заказ}} готов. Ждём вас в {{Город}} с 10 до 20.';
  async function median(label: string, work: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const own = await work();
      // A step that has to prepare something first times itself (returns its own milliseconds).
      times.push(typeof own === 'number' ? own : performance.now() - t);
    }
    const ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!;
    console.log(`${label.padEnd(62)} ${ms.toFixed(0).padStart(6)} ms   heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);
    return ms;
  }
  console.log(`${rows} recipients, median of ${runs}`);
  const twoLists = { listIds: [a], tags: ['лето'] };
  // Baseline: the contacts alone, one plain pg statement per list (no rendering, no standing).
  const readRaw = (id: number) => knex.raw('select id, row_number, phone, fields from list_contacts where list_id = ? order by row_number', [id]);
  const raw = await median('baseline: raw read of the two lists\' contacts', () => Promise.all([readRaw(a), readRaw(b)]));
  // "First": nothing kept from an earlier preview (forgetPreviews before each run).
  const cold = (work: () => Promise<unknown>) => async () => {
    service.forgetPreviews();
    await work();
    return undefined;
  };
  const base = await median('first preview, one list', cold(() => service.preview({ listId: one }, template)));
  const two = await median('first preview, two lists (list + tag), 10 % in both', cold(() => service.preview(twoLists, template)));
  const search = await median('then: search by a field («Кемер»)', () => service.preview(twoLists, template, { q: 'Кемер' }));
  const phone = await median('then: search by a number', () => service.preview(twoLists, template, { q: '8 912 004-56-78' }));
  const again = await median('then: the same preview again', () => service.preview(twoLists, template));
  let n = 0;
  const edited = await median('then: the text corrected (contacts kept, rendered again)', () => service.preview(twoLists, `${template} ${++n}`));
  const translit = await median('then: translit switched on (after a first preview)', async () => {
    service.forgetPreviews();
    await service.preview(twoLists, template);
    const t = performance.now();
    await service.preview(twoLists, template, { translit: true });
    return performance.now() - t;
  });
  console.log(`ratios to the raw read: first preview ${(two / raw).toFixed(2)}× (one list ${(base / raw).toFixed(2)}×), search ${(search / raw).toFixed(2)}× / ${(phone / raw).toFixed(2)}×, same again ${(again / raw).toFixed(2)}×, corrected text ${(edited / raw).toFixed(2)}×, translit ${(translit / raw).toFixed(2)}×`);
  await service.preview(twoLists, template, { translit: true });
  const t = performance.now();
  const { summary } = await service.create({ name: 'bench', ...twoLists, template, kind: 'service', createdBy: null, translit: true });
  console.log(`create after its preview (two lists, translit, ${summary.recipients} messages stored; standing read again): ${(performance.now() - t).toFixed(0)} ms; parts ${summary.parts}, without translit ${summary.translit?.partsWithout}`);
} finally {
  await testDb.drop();
}
