/**
 * ami-values.ts: escaping for chan_dongle's ast_unescape_c and the AMI injection guard.
 * The round-trip uses the simulator's INDEPENDENT ast_unescape_c port, not an inverse from
 * the same file, so one mistake can't cancel itself out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AMI_SAFE_LINE_BYTES, AmiUnsafeValueError, amiLineBytes, assertSafeAmiAction, assertSafeAmiValue, escapeDongleMessage,
} from '../../src/modems/ami/ami-values.js';
import { unescapeC } from '../../src/simulator/ami-simulator.js';

/** What Asterisk's header parser does to a value: skip leading blanks (chars < 33). */
const amiSkipBlanks = (v: string) => v.replace(/^[\u0000-\u0020]+/, '');

describe('escapeDongleMessage', () => {
  const table: Array<[string, string]> = [
    ['Hello', 'Hello'],
    ['a\\b', 'a\\\\b'],
    ['line1\nline2', 'line1\\nline2'],
    ['crlf\r\nend', 'crlf\\r\\nend'],
    ['tab\there', 'tab\\there'],
    ['\\n is not a newline', '\\\\n is not a newline'],
    [' leading space', '\\ leading space'],
    ['  two spaces', '\\  two spaces'],
    ['Здравствуйте, Анна!\nОтписка: ответьте СТОП', 'Здравствуйте, Анна!\\nОтписка: ответьте СТОП'],
    ['trailing\\', 'trailing\\\\'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      const escaped = escapeDongleMessage(input);
      assert.equal(escaped, expected);
      assert.equal(unescapeC(amiSkipBlanks(escaped)), input, 'chan_dongle must read back the original');
    });
  }

  it('an injection attempt becomes ONE safe header line', () => {
    const attack = 'hi\r\n\r\nAction: Originate\r\nChannel: Local/666@evil\r\nExten: 1';
    const escaped = escapeDongleMessage(attack);
    assert.equal(escaped, 'hi\\r\\n\\r\\nAction: Originate\\r\\nChannel: Local/666@evil\\r\\nExten: 1');
    assert.doesNotMatch(escaped, /[\r\n]/);
    assert.doesNotThrow(() => assertSafeAmiValue('Message', escaped));
    assert.equal(unescapeC(escaped), attack); // the recipient just reads the odd text
  });

  it('round-trips random text built from the awkward characters', () => {
    const alphabet = ['a', ' ', '\\', '\n', '\r', '\t', 'n', 'Я', '€', '😀', ':', '\b', '\f'];
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      const escaped = escapeDongleMessage(text);
      assert.doesNotThrow(() => assertSafeAmiValue('Message', escaped), JSON.stringify(text));
      assert.equal(unescapeC(amiSkipBlanks(escaped)), text, JSON.stringify(text));
    }
  });

  it('leaves other control characters for the guard to reject', () => {
    assert.throws(() => assertSafeAmiValue('Message', escapeDongleMessage('bell\u0007')), AmiUnsafeValueError);
    assert.throws(() => assertSafeAmiValue('Message', escapeDongleMessage('nul\u0000')), AmiUnsafeValueError);
  });
});

describe('assertSafeAmiValue', () => {
  it('rejects CR, LF, every other C0 control and DEL — in any header', () => {
    for (const header of ['Number', 'Device', 'Payload', 'Message', 'Secret']) {
      for (let code = 0; code < 0x20; code++) {
        assert.throws(() => assertSafeAmiValue(header, `x${String.fromCharCode(code)}y`), (err: unknown) =>
          err instanceof AmiUnsafeValueError && err.problem === 'control-char' && err.header === header);
      }
      assert.throws(() => assertSafeAmiValue(header, 'x\u007fy'), AmiUnsafeValueError);
    }
  });

  it('rejects the classic payloads', () => {
    assert.throws(() => assertSafeAmiValue('Number', '+79161234567\r\nAction: Originate'), AmiUnsafeValueError);
    assert.throws(() => assertSafeAmiValue('Device', 'dongle0\nAction: Logoff'), AmiUnsafeValueError);
    assert.throws(() => assertSafeAmiValue('Payload', 'msg-1\r\n\r\nAction: Command\r\nCommand: core stop now'), AmiUnsafeValueError);
    assert.throws(() => assertSafeAmiValue('Payload', 'only a CR\r'), AmiUnsafeValueError);
  });

  it('does not echo the rejected value in the error (it may be PII or the attack itself)', () => {
    try {
      assertSafeAmiValue('Number', '+79161234567\nsecret');
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof AmiUnsafeValueError);
      assert.doesNotMatch(err.message, /79161234567|secret/);
      assert.match(err.message, /0x0a at index 12/);
    }
  });

  it('rejects lone surrogates (they would silently become U+FFFD)', () => {
    assert.throws(() => assertSafeAmiValue('Message', 'a\ud83db'), (e: unknown) => e instanceof AmiUnsafeValueError && e.problem === 'lone-surrogate');
    assert.doesNotThrow(() => assertSafeAmiValue('Message', 'ok 😀'));
  });

  it('rejects header names that are not plain tokens', () => {
    for (const name of ['', 'Bad Name', 'X:Y', 'A\r\nB', '1abc']) {
      assert.throws(() => assertSafeAmiValue(name, 'v'), (e: unknown) => e instanceof AmiUnsafeValueError && e.problem === 'bad-key');
    }
  });

  it('limits the whole line "Key: value" in UTF-8 BYTES, not characters', () => {
    const prefix = 'Message: '.length;
    const ascii = 'a'.repeat(AMI_SAFE_LINE_BYTES - prefix);
    assert.equal(amiLineBytes('Message', ascii), AMI_SAFE_LINE_BYTES);
    assert.doesNotThrow(() => assertSafeAmiValue('Message', ascii));
    assert.throws(() => assertSafeAmiValue('Message', `${ascii}a`), (e: unknown) => e instanceof AmiUnsafeValueError && e.problem === 'line-too-long');
    // 500 Cyrillic letters are 1000 bytes: under the limit in characters, over it in bytes.
    const cyrillic = 'Я'.repeat(500);
    assert.throws(() => assertSafeAmiValue('Message', cyrillic), /line-too-long/);
    assert.doesNotThrow(() => assertSafeAmiValue('Message', 'Я'.repeat(495)));
    // Escapes count: each \n costs 2 bytes on the wire.
    assert.throws(() => assertSafeAmiValue('Message', escapeDongleMessage('\n'.repeat(496))), /line-too-long/);
  });

  it('assertSafeAmiAction checks every defined field and skips undefined ones', () => {
    assert.doesNotThrow(() => assertSafeAmiAction({ Action: 'DongleSendSMS', Device: 'dongle0', Validity: undefined }));
    assert.throws(() => assertSafeAmiAction({ Action: 'DongleSendSMS', Payload: 'p\n' }), /Payload/);
  });
});
