/**
 * The sample files in asterisk/ that a PBX admin drops in: each parses as Asterisk config
 * (test/helpers/asterisk-config.ts, strict), the [simcast] AMI user grants exactly what
 * src/modems/ami/permissions.ts lists, chan_dongle's settings and contexts are there, and the
 * dialplan hooks raise UserEvent(SimcastNotify, …) safely.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ConfSyntaxError, classList, entriesOf, parseAsteriskConfig, userEventArgs, type ConfFile, type DialplanStep,
} from '../helpers/asterisk-config.js';
import { amiPermissions } from '../../src/modems/ami/permissions.js';

const asteriskDir = fileURLToPath(new URL('../../asterisk/', import.meta.url));
const isDialplan = (name: string) => name.startsWith('extensions');

function load(name: string): ConfFile {
  return parseAsteriskConfig(`asterisk/${name}`, readFileSync(`${asteriskDir}${name}`, 'utf8'), { dialplan: isDialplan(name) });
}

const confFiles = readdirSync(asteriskDir).filter((f) => f.endsWith('.conf')).sort();
const dialplanFiles = ['extensions.conf', 'extensions_custom.conf'];
const managerFiles = ['manager.conf', 'manager_custom.conf'];

/** The single value of a key in a section; fails unless it occurs exactly once. */
function single(conf: ConfFile, section: string, key: string): string {
  const found = entriesOf(conf, section, key);
  assert.equal(found.length, 1, `${conf.file} [${section}] ${key}: ${found.length} lines`);
  return (found[0] as { value: string }).value;
}

const userEvents = (conf: ConfFile): DialplanStep[] => conf.steps.filter((s) => s.app === 'UserEvent');

describe('the config parser', () => {
  const ok = (text: string, dialplan = false) => parseAsteriskConfig('t.conf', text, { dialplan });
  const bad = (text: string, line: number, dialplan = false) => {
    assert.throws(() => ok(text, dialplan), (err: unknown) => err instanceof ConfSyntaxError && err.line === line && err.message.startsWith(`t.conf:${line}: `));
  };

  it('accepts sections with template markers, both assignment forms, comments and includes', () => {
    const conf = ok([
      '; comment', '#include "other.conf"', '#tryinclude extra.conf', '[general]', 'a = 1 ; trailing',
      '  b=>2', ';-------------- a ruler, not a block comment', '[tpl](!)', 'c = x\\;y', '[user](tpl)', '[user](+)', 'd = 4', ';-- block', 'still comment --; e = 5',
    ].join('\n'));
    assert.deepEqual(conf.sections.map((s) => [s.name, s.options]), [['general', []], ['tpl', ['!']], ['user', ['tpl']], ['user', ['+']]]);
    assert.deepEqual(conf.includes.map((i) => i.target), ['other.conf', 'extra.conf']);
    assert.equal(single(conf, 'general', 'b'), '2');
    assert.equal(single(conf, 'tpl', 'c'), 'x\\;y');
    assert.equal(entriesOf(conf, 'user', 'e')[0]?.value, '5');
  });

  it('names file:line for anything it does not know', () => {
    bad('[general]\nthis is not config', 2);
    bad('a = 1', 1); // before any section
    bad('[general\nx = 1', 1);
    bad('[s](?)', 1);
    bad('#exec /bin/true', 1);
    bad('[s]\n;-- never closed', 2);
  });

  it('checks dialplan priorities, same =>, and application syntax', () => {
    const conf = ok('[c]\nexten => s,1,Answer()\n same => n(x),NoOp(a,b)\nexten => s,n,Hangup\nexten => 100,hint,PJSIP/100', true);
    assert.deepEqual(conf.steps.map((s) => [s.exten, s.priority, s.label, s.app]), [['s', '1', null, 'Answer'], ['s', 'n', 'x', 'NoOp'], ['s', 'n', null, 'Hangup'], ['100', 'hint', null, 'hint']]);
    bad('[c]\nsame => n,NoOp()', 2, true);
    bad('[c]\nexten => s,2,NoOp()', 2, true);
    bad('[c]\nexten => s,n,NoOp()', 2, true);
    bad('[c]\nexten => s,1,NoOp()\nexten => s,1,NoOp()', 3, true);
    bad('[c]\nexten => s,x,NoOp()', 2, true);
    bad('[c]\nexten => s,1,NoOp(a', 2, true);
    bad('[c]\nexten => s,1,NoOp(${X)', 2, true);
    bad('[c]\nexten => s,1,No Op()', 2, true);
    bad('[c]\nexten = s,1,NoOp()', 2, true);
  });

  it('splits UserEvent arguments like app_userevent: at the first colon, value trimmed', () => {
    const { name, fields } = userEventArgs('SimcastNotify,Phone:  ${FILTER(0-9,${CALLERID(num)})} ,Template: a:b');
    assert.equal(name, 'SimcastNotify');
    assert.equal(fields.get('Phone'), '${FILTER(0-9,${CALLERID(num)})}');
    assert.equal(fields.get('Template'), 'a:b');
  });
});

describe('asterisk/ sample files', () => {
  it('are all here, and every one parses', () => {
    for (const f of [...managerFiles, ...dialplanFiles, 'dongle.conf']) assert.ok(confFiles.includes(f), f);
    for (const f of confFiles) {
      const conf = load(f);
      assert.ok(conf.sections.length > 0, f);
    }
  });

  for (const f of managerFiles) {
    it(`${f}: the [simcast] user grants exactly amiPermissions, filtered, loopback only`, () => {
      const conf = load(f);
      assert.equal(conf.sections.filter((s) => s.name === 'simcast').length, 1);
      assert.deepEqual(classList(single(conf, 'simcast', 'read')).sort(), [...amiPermissions.read].sort());
      assert.deepEqual(classList(single(conf, 'simcast', 'write')).sort(), [...amiPermissions.write].sort());
      assert.deepEqual(entriesOf(conf, 'simcast', 'eventfilter').map((e) => e.value), [...amiPermissions.eventFilters]);
      assert.equal(single(conf, 'simcast', 'deny'), '0.0.0.0/0.0.0.0');
      assert.equal(single(conf, 'simcast', 'permit'), '127.0.0.1/255.255.255.255');
      // deny before permit: Asterisk applies the rules in order, the last match wins.
      const entries = conf.sections.find((s) => s.name === 'simcast')?.entries ?? [];
      assert.ok(entries.findIndex((e) => e.key === 'deny') < entries.findIndex((e) => e.key === 'permit'));
      assert.match(single(conf, 'simcast', 'secret'), /^CHANGE-ME/);
      assert.ok(Number(single(conf, 'simcast', 'writetimeout')) >= 100);
    });
  }

  it('manager.conf: AMI on, on loopback only', () => {
    const conf = load('manager.conf');
    assert.equal(single(conf, 'general', 'enabled'), 'yes');
    assert.equal(single(conf, 'general', 'bindaddr'), '127.0.0.1');
  });

  it('manager_custom.conf: no [general] (FreePBX owns it)', () => {
    assert.equal(load('manager_custom.conf').sections.some((s) => s.name === 'general'), false);
  });

  it('dongle.conf: autodeletesms, SMS reading on, and the context the dialplan samples define', () => {
    const conf = load('dongle.conf');
    assert.equal(single(conf, 'defaults', 'autodeletesms'), 'yes');
    assert.equal(single(conf, 'defaults', 'disablesms'), 'no');
    const context = single(conf, 'defaults', 'context');
    for (const f of dialplanFiles) {
      const dp = load(f);
      for (const exten of ['sms', 'report']) {
        const steps = dp.steps.filter((s) => s.context === context && s.exten === exten);
        assert.ok(steps.length > 0, `${f}: ${exten}@${context}`);
        // simcast reads SMS and reports from AMI: the dialplan must not forward or store them.
        assert.deepEqual(steps.filter((s) => !['NoOp', 'Hangup', 'Verbose'].includes(s.app)).map((s) => s.app), [], `${f}: ${exten}@${context}`);
      }
    }
  });

  for (const f of dialplanFiles) {
    it(`${f}: the missed-call hook raises UserEvent(SimcastNotify, …) with Phone and Template, unless answered`, () => {
      const dp = load(f);
      const missed = userEvents(dp).filter((s) => userEventArgs(s.args).fields.get('Template') === 'missed-call' && !s.context.endsWith('-test'));
      assert.equal(missed.length, 1);
      const step = missed[0] as DialplanStep;
      assert.ok(step.args.startsWith('SimcastNotify,'), step.args);
      assert.ok(userEventArgs(step.args).fields.has('Phone'));
      // Guarded by DIALSTATUS != ANSWER earlier in the same extension.
      const before = dp.steps.filter((s) => s.context === step.context && s.exten === step.exten && s.line < step.line);
      assert.ok(before.some((s) => s.app === 'GotoIf' && /\$\{DIALSTATUS\}" = "ANSWER"/.test(s.args)), 'DIALSTATUS guard');
      if (f === 'extensions.conf') assert.equal(step.exten, 'h');
    });

    it(`${f}: the IVR hook sends office-address`, () => {
      const dp = load(f);
      assert.ok(userEvents(dp).some((s) => userEventArgs(s.args).fields.get('Template') === 'office-address'));
    });

    it(`${f}: every UserEvent is SimcastNotify with a Template and a FILTERed or literal Phone`, () => {
      const dp = load(f);
      assert.ok(userEvents(dp).length > 0);
      for (const step of userEvents(dp)) {
        const { name, fields } = userEventArgs(step.args);
        assert.equal(name, 'SimcastNotify', `${f}:${step.line}`);
        assert.match(fields.get('Template') ?? '', /^[a-z][a-z0-9-]*$/, `${f}:${step.line}`);
        assert.equal(fields.keys().next().value, 'Template', `${f}:${step.line}: Template first, before any caller-made value`);
        const phone = fields.get('Phone') ?? '';
        if (phone === '${SIMCAST_PHONE}') {
          const set = dp.steps.filter((s) => s.context === step.context && s.exten === step.exten && s.line < step.line && s.app === 'Set' && s.args.startsWith('SIMCAST_PHONE='));
          assert.ok(set.some((s) => /^SIMCAST_PHONE=\$\{FILTER\(0123456789\+,\$\{CALLERID\(num\)\}\)\}$/.test(s.args)), `${f}:${step.line}: SIMCAST_PHONE from FILTER`);
        } else {
          assert.match(phone, /^\+?\d+$/, `${f}:${step.line}`);
        }
        // Nothing caller-controlled goes in raw.
        assert.doesNotMatch(step.args, /CALLERID\(/, `${f}:${step.line}`);
      }
    });

    it(`${f}: every GotoIf label exists in its extension`, () => {
      const dp = load(f);
      for (const step of dp.steps.filter((s) => s.app === 'GotoIf')) {
        const target = step.args.slice(step.args.lastIndexOf('?') + 1);
        for (const label of target.split(':').filter((t) => t !== '')) {
          assert.match(label, /^[A-Za-z0-9_-]+$/, `${f}:${step.line}: only plain labels in the samples`);
          assert.ok(dp.steps.some((s) => s.context === step.context && s.exten === step.exten && s.label === label), `${f}:${step.line}: label ${label}`);
        }
      }
    });

    it(`${f}: Goto targets and hangup handlers name contexts of the file (or FreePBX's from-trunk)`, () => {
      const dp = load(f);
      const contexts = new Set(dp.sections.map((s) => s.name));
      for (const step of dp.steps) {
        const target = step.app === 'Goto' ? step.args : /^CHANNEL\(hangup_handler_push\)=(.*)$/.exec(step.args)?.[1];
        if (target === undefined) continue;
        const parts = target.split(',');
        if (parts.length < 3) continue; // exten,priority or priority: same context
        const ctx = parts[0] as string;
        assert.ok(contexts.has(ctx) || ctx === 'from-trunk', `${f}:${step.line}: context ${ctx}`);
      }
    });
  }
});
