/**
 * src/modems/ami/permissions.ts: the AMI classes simcast asks for are exactly what its actions
 * and events need, every action/event name the code uses is on the list, and the sample
 * eventfilter lets simcast's events through and keeps a busy PBX's channel events out — checked
 * on synthetic events and on every event of the recorded Asterisk 18 transcripts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverChunks, transcriptFiles } from '../helpers/ami-transcripts.js';
import { amiActions, amiEvents, amiPermissions, passesEventFilter } from '../../src/modems/ami/permissions.js';

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

/** A minimal event as Asterisk builds it for the filter: `Event: X\r\nPrivilege: …\r\n…`. */
function eventText(name: string, privilege: string, extra: Record<string, string> = {}): string {
  const lines = [`Event: ${name}`, `Privilege: ${privilege},all`, ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n`;
}

/** Every .ts file under src/ that talks AMI (the simulator only imitates Asterisk, so it is left out). */
function amiSourceFiles(): string[] {
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => !f.startsWith('simulator/') && !f.startsWith('web/') && f !== 'modems/ami/permissions.ts');
  assert.ok(files.includes('modems/ami/dongle-gateway.ts'), 'src/ layout changed: update amiSourceFiles');
  return files;
}

/** Quoted string literals in a source text. */
function stringLiterals(text: string): string[] {
  return [...text.matchAll(/'([^'\\\n]*)'|"([^"\\\n]*)"/g)].map((m) => (m[1] ?? m[2]) as string);
}

/** Event frames (text up to the blank line) Asterisk sent in one recorded transcript. */
function recordedEvents(file: string): string[] {
  const wire = Buffer.concat(serverChunks(file)).toString('utf8');
  return wire.split('\r\n\r\n')
    .map((block) => block.replace(/^(?:\r\n)+/, ''))
    .map((block) => block.slice(Math.max(0, block.search(/^Event: /m))))
    .filter((block) => block.startsWith('Event: '))
    .map((block) => `${block}\r\n`);
}

const busyPbxEvents: [string, string][] = [
  ['Newchannel', 'call'], ['Hangup', 'call'], ['VarSet', 'dialplan'], ['Newexten', 'dialplan'],
  ['Cdr', 'cdr'], ['NewCallerid', 'call'], ['SoftHangupRequest', 'call'], ['DialBegin', 'call'],
  ['DialEnd', 'call'], ['BridgeEnter', 'call'], ['Newstate', 'call'], ['HangupRequest', 'call'],
  ['Cel', 'cel'], ['RTCPSent', 'reporting'], ['PeerStatus', 'system'], ['DeviceStateChange', 'call'],
];

describe('AMI permissions: the classes', () => {
  it('read is exactly the classes of the events simcast reads (list items need none)', () => {
    const needed = new Set(amiEvents.filter((e) => e.delivery === 'event').flatMap((e) => [...e.allOf]));
    assert.deepEqual([...needed].sort(), [...amiPermissions.read].sort());
    for (const e of amiEvents.filter((x) => x.delivery === 'list-item')) assert.equal(e.allOf.length, 0, e.event);
  });

  it('write is exactly the granted class of each action, and each grant is one the action accepts', () => {
    for (const a of amiActions) {
      if (a.anyOf.length === 0) assert.equal(a.granted, null, a.action);
      else assert.ok(a.granted !== null && (a.anyOf as readonly string[]).includes(a.granted), a.action);
    }
    const granted = new Set(amiActions.map((a) => a.granted).filter((g) => g !== null));
    assert.deepEqual([...granted].sort(), [...amiPermissions.write].sort());
  });

  it('every granted class says why', () => {
    for (const c of amiPermissions.read) assert.ok((amiPermissions.readWhy as Record<string, string>)[c], `read ${c}`);
    for (const c of amiPermissions.write) assert.ok((amiPermissions.writeWhy as Record<string, string>)[c], `write ${c}`);
    assert.deepEqual(Object.keys(amiPermissions.readWhy).sort(), [...amiPermissions.read].sort());
    assert.deepEqual(Object.keys(amiPermissions.writeWhy).sort(), [...amiPermissions.write].sort());
  });

  it('asks for no class that can run commands, originate calls or touch config', () => {
    for (const c of ['command', 'originate', 'config', 'system'] as const) {
      assert.ok(!(amiPermissions.write as readonly string[]).includes(c), `write ${c}`);
    }
    assert.deepEqual(amiPermissions.read.filter((c) => !['call', 'user', 'system'].includes(c)), []);
  });
});

describe('AMI permissions: names used in the code are on the list', () => {
  const actionNames = new Set(amiActions.map((a) => a.action.toLowerCase()));
  const eventNames = new Set(amiEvents.map((e) => e.event.toLowerCase()));

  it('every Action sent from src/ is listed', () => {
    const sent = new Set<string>();
    for (const f of amiSourceFiles()) {
      const text = readFileSync(`${srcDir}${f}`, 'utf8');
      for (const m of text.matchAll(/\bAction:\s*'([A-Za-z]+)'/g)) sent.add((m[1] as string).toLowerCase());
    }
    assert.ok(sent.has('donglesendsms') && sent.has('dongleshowdevices') && sent.has('ping'), [...sent].join(', '));
    assert.deepEqual([...sent].filter((a) => !actionNames.has(a)), []);
  });

  it('every Dongle*/UserEvent/FullyBooted name in src/ is a listed event (or action)', () => {
    const used = new Set<string>();
    for (const f of amiSourceFiles()) {
      for (const lit of stringLiterals(readFileSync(`${srcDir}${f}`, 'utf8'))) {
        if (/^(dongle[a-z][a-z0-9]*|userevent|fullybooted)$/i.test(lit)) used.add(lit.toLowerCase());
      }
    }
    for (const name of ['donglereport', 'donglestatus', 'donglenewsmsbase64', 'donglesmsstatus', 'dongledeviceentry']) {
      assert.ok(used.has(name), `expected the code to name ${name}; found ${[...used].join(', ')}`);
    }
    assert.deepEqual([...used].filter((n) => !eventNames.has(n) && !actionNames.has(n)), []);
  });
});

describe('AMI permissions: the eventfilter', () => {
  it('is the legacy regex form, plain POSIX ERE (no JavaScript-only syntax)', () => {
    assert.ok(amiPermissions.eventFilters.length > 0);
    for (const f of amiPermissions.eventFilters) {
      assert.match(f, /^!?[A-Za-z0-9 :|()^$]+$/, f);
      assert.doesNotMatch(f, /\(\?|\\[dws]/, f);
    }
  });

  it('lets every event simcast reads through', () => {
    for (const e of amiEvents) {
      assert.ok(passesEventFilter(eventText(e.event, e.allOf.join(',') || 'call')), e.event);
    }
    // Every Dongle* event passes, whatever its name (DongleNewSMS, DongleCallStateChange…).
    assert.ok(passesEventFilter(eventText('DongleCallStateChange', 'call')));
    assert.ok(passesEventFilter(eventText('UserEvent', 'user', { UserEvent: 'SimcastNotify', Phone: '+79990000000', Template: 'missed-call' })));
  });

  it('keeps a busy PBX\'s channel events out', () => {
    for (const [name, cls] of busyPbxEvents) {
      assert.equal(passesEventFilter(eventText(name, cls, { Channel: 'PJSIP/101-00000001', Context: 'from-internal', Exten: '200' })), false, name);
    }
  });

  it('on the recorded transcripts: simcast\'s events pass, the channel events of the same SMS do not', () => {
    const passed = new Set<string>();
    const blocked = new Set<string>();
    for (const file of transcriptFiles()) {
      for (const text of recordedEvents(file)) {
        const name = (/^Event: (\S+)/.exec(text) as RegExpExecArray)[1] as string;
        const expected = /^Dongle/.test(name) || name === 'UserEvent' || name === 'FullyBooted';
        assert.equal(passesEventFilter(text), expected, `${file}: ${name}`);
        (expected ? passed : blocked).add(name);
      }
    }
    for (const e of ['DongleReport', 'DongleStatus', 'DongleNewSMSBase64', 'UserEvent', 'DongleDeviceEntry']) assert.ok(passed.has(e), e);
    for (const e of ['Newchannel', 'Hangup', 'VarSet', 'Newexten']) assert.ok(blocked.has(e), e);
  });

  it('follows Asterisk\'s rules for !-filters', () => {
    assert.equal(passesEventFilter('Event: Hangup\r\n', []), true);
    assert.equal(passesEventFilter('Event: Hangup\r\n', ['!Event: Hangup']), false);
    assert.equal(passesEventFilter('Event: DongleReport\r\n', ['Event: Dongle', '!Event: DongleNewSMS']), true);
    assert.equal(passesEventFilter('Event: DongleNewSMS\r\n', ['Event: Dongle', '!Event: DongleNewSMS']), false);
  });
});
