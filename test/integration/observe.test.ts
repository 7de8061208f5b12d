import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { adminUrl } from '../helpers/test-db.js';
import { campaignFinished, startHarness, testModems, uploadList, type Harness } from '../helpers/harness.js';
import { parseExposition, samples, total, type Family } from '../helpers/prom-text.js';

interface HealthBody {
  status: string;
  database: string;
  ami: string;
  modems: { ready: number; total: number };
}

/** Polls until `check` passes (its last failure is thrown after the deadline). */
async function eventually<T>(what: () => Promise<T>, check: (value: T) => void, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    try {
      check(value);
      return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('/healthz and /metrics: PostgreSQL, the simulator over TCP, the service on 127.0.0.1', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    assert.match(h.service.url, /^http:\/\/127\.0\.0\.1:/, 'the harness listens on loopback');
  });
  after(async () => {
    await h.close();
  });

  const health = async () => {
    const res = await fetch(`${h.service.url}/healthz`);
    return { status: res.status, body: (await res.json()) as HealthBody, res };
  };
  const scrape = async (headers: Record<string, string> = {}): Promise<Map<string, Family>> => {
    const res = await fetch(`${h.service.url}/metrics`, { headers });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  test('GET /healthz: 200, database ok, AMI connected, both modems ready; no login, no cookie', async () => {
    const { body, res } = await eventually(health, (r) => assert.equal(r.body.modems.ready, 2));
    assert.equal(res.status, 200);
    assert.deepEqual(body, { status: 'ok', database: 'ok', ami: 'connected', modems: { ready: 2, total: 2 } });
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  test('GET /metrics from loopback needs no token and parses as Prometheus text', async () => {
    const res = await fetch(`${h.service.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('set-cookie'), null);
    const families = parseExposition(await res.text());
    assert.equal(families.get('simcast_database_up')?.type, 'gauge');
    assert.equal(total(families, 'simcast_database_up'), 1);
    assert.equal(total(families, 'simcast_ami_connected'), 1);
    assert.equal(families.get('simcast_ami_reconnects_total')?.type, 'counter');
    assert.equal(total(families, 'simcast_modems', { ready: 'true' }), 2);
    assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
    for (const kind of ['campaign_service', 'campaign_advertising', 'notification', 'opt_out_confirmation']) {
      assert.equal(samples(families, 'simcast_queue_depth', { kind }).length, 1, kind);
    }
    // Dialplan events by outcome, every outcome present (zero until one happens).
    assert.equal(families.get('simcast_dialplan_events_total')?.type, 'counter');
    assert.equal(total(families, 'simcast_dialplan_events_total', { outcome: 'queued' }), 0);
  });

  test('through a proxy (X-Forwarded-For) loopback is not enough: 401 without a token, 200 with one', async () => {
    for (const header of ['x-real-ip', 'via', 'x-forwarded-proto']) {
      assert.equal((await fetch(`${h.service.url}/metrics`, { headers: { [header]: '1.1 nginx' } })).status, 401, header);
    }
    const proxied = await fetch(`${h.service.url}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
    assert.equal(proxied.status, 401);
    assert.match(proxied.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await fetch(`${h.service.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer sc_nope' } });
    assert.equal(wrong.status, 401);
    const families = await scrape({ 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${h.token}` });
    assert.equal(total(families, 'simcast_ami_connected'), 1);
  });

  test('after a small campaign and an opt-out: messages by state, kind and SIM; parts against limits; incoming SMS', async () => {
    const phones = ['+79123456789', '+79161234567'];
    const upload = await uploadList(h, [['Телефон', 'Имя'], [phones[0], 'Анна'], [phones[1], 'Сергей']]);
    assert.equal(upload.status, 201);
    const list = (await upload.json()) as { id: number };
    const created = await h.api('/campaigns', { method: 'POST', body: JSON.stringify({ name: 'Метрики', listId: list.id, template: '{{Имя}}, заказ готов', kind: 'service' }) });
    assert.equal(created.status, 201);
    const campaign = (await created.json()) as { id: number };
    const finished = campaignFinished(h.service, campaign.id);
    assert.equal((await h.api(`/campaigns/${campaign.id}/start`, { method: 'POST' })).status, 200);
    await finished;
    const startedAt = Date.now() / 1000;

    h.simulator.injectIncomingSms('dongle0', '+79035550011', 'СТОП');
    const families = await eventually(
      () => scrape(),
      (f) => assert.equal(total(f, 'simcast_inbound_sms', { opt_out: 'true' }), 1),
    );

    const sent = samples(families, 'simcast_messages', { state: 'sent', kind: 'campaign_service' });
    assert.equal(sent.reduce((s, x) => s + x.value, 0), 2);
    const imsis = testModems.map((m) => m.imsi);
    for (const s of sent) assert.ok(imsis.includes(s.labels.imsi!), `sent by a known SIM: ${s.labels.imsi}`);
    assert.equal(total(families, 'simcast_messages', { state: 'waiting' }), 0);
    assert.equal(total(families, 'simcast_queue_depth', { kind: 'campaign_service' }), 0);

    for (const imsi of imsis) {
      assert.equal(total(families, 'simcast_sim_parts_limit', { imsi, period: 'day' }), 100);
      assert.equal(total(families, 'simcast_sim_parts_limit', { imsi, period: 'month' }), 3000);
      assert.equal(total(families, 'simcast_sim_enabled', { imsi }), 1);
    }
    assert.equal(total(families, 'simcast_sim_parts_used', { period: 'day' }), 2);
    assert.equal(total(families, 'simcast_sim_parts_used', { period: 'month' }), 2);
    for (const s of sent) {
      const [last] = samples(families, 'simcast_sim_last_success_timestamp_seconds', { imsi: s.labels.imsi! });
      assert.ok(last && Math.abs(last.value - startedAt) < 60, `last success of ${s.labels.imsi}: ${last?.value}`);
    }

    assert.equal(total(families, 'simcast_inbound_sms', { opt_out: 'false' }), 0);
    assert.equal(total(families, 'simcast_stop_list_entries', { source: 'reply' }), 1);
    assert.equal(total(families, 'simcast_inbound_sms_received_total'), 1);

    // No personal data: neither the numbers nor the texts appear anywhere.
    const text = await (await fetch(`${h.service.url}/metrics`)).text();
    for (const phone of [...phones, '+79035550011']) assert.equal(text.includes(phone.slice(2)), false, phone);
    assert.equal(/Анна|заказ|СТОП/.test(text), false);
  });

  test('AMI down: /healthz 503 with the same shape, metrics say disconnected; back up: a reconnect is counted', async () => {
    h.simulator.refuseLoginsFor(2000);
    h.simulator.dropConnections();
    const down = await eventually(health, (r) => assert.equal(r.status, 503));
    assert.deepEqual(down.body, { status: 'unavailable', database: 'ok', ami: 'disconnected', modems: { ready: 0, total: 2 } });
    const families = await scrape();
    assert.equal(total(families, 'simcast_ami_connected'), 0);
    assert.equal(total(families, 'simcast_modems', { ready: 'true' }), 0);
    assert.ok(total(families, 'simcast_ami_disconnects_total') >= 1);
    assert.equal(total(families, 'simcast_database_up'), 1);

    const up = await eventually(health, (r) => assert.equal(r.status, 200), 30_000);
    assert.deepEqual(up.body, { status: 'ok', database: 'ok', ami: 'connected', modems: { ready: 2, total: 2 } });
    const again = await eventually(
      () => scrape(),
      (f) => assert.equal(total(f, 'simcast_ami_reconnects_total'), 1),
    );
    assert.equal(total(again, 'simcast_ami_connected'), 1);
  });

  test('PostgreSQL goes away: /healthz 503 within its timeout, /metrics still answers with database_up 0; back: 200', async () => {
    const name = new URL(h.testDb.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      // No new connections to the test database, and its open ones cut: the service's pool fails.
      await admin.query(`alter database ${name} allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);

      const startedAt = Date.now();
      const down = await eventually(health, (r) => assert.equal(r.status, 503));
      assert.ok(Date.now() - startedAt < 10_000);
      assert.deepEqual(down.body, { status: 'unavailable', database: 'unavailable', ami: 'connected', modems: { ready: 2, total: 2 } });

      const scrapedAt = Date.now();
      const families = await scrape();
      assert.ok(Date.now() - scrapedAt < 5000, 'a scrape does not hang on a dead database');
      assert.equal(total(families, 'simcast_database_up'), 0);
      assert.equal(samples(families, 'simcast_messages').length, 0, 'no database gauges without the database');
      assert.equal(families.get('simcast_messages')?.type, 'gauge', 'the family is still declared');
      assert.equal(total(families, 'simcast_ami_connected'), 1);

      // A token can't be checked without the database: not a 500, not a pass.
      const proxied = await fetch(`${h.service.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${h.token}` } });
      assert.equal(proxied.status, 503);
    } finally {
      await admin.query(`alter database ${name} allow_connections true`);
      await admin.end();
    }
    const up = await eventually(health, (r) => assert.equal(r.status, 200));
    assert.equal(up.body.database, 'ok');
    assert.equal(total(await scrape(), 'simcast_database_up'), 1);
  });
});
