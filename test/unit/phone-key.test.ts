import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { phoneKey } from '../../src/compliance/phone-key.js';
import { maskPhone, maskText } from '../../src/compliance/redact.js';

describe('phoneKey', () => {
  it('is HMAC-SHA-256 hex of the E.164 text', () => {
    // echo -n '+79123456789' | openssl dgst -sha256 -hmac 'secret'
    assert.equal(phoneKey('secret', '+79123456789'), 'ed53430a9944cac46b3671b85b831036f108cfbba5852a2f411d1e562abdf23f');
  });

  it('is deterministic, 64 hex digits, and depends on the secret and the number', () => {
    const key = phoneKey('s1', '+79123456789');
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(phoneKey('s1', '+79123456789'), key);
    assert.notEqual(phoneKey('s2', '+79123456789'), key);
    assert.notEqual(phoneKey('s1', '+79123456788'), key);
  });

  it('is not the plain hash of the number', () => {
    assert.notEqual(phoneKey('s1', '+79123456789'), createHash('sha256').update('+79123456789').digest('hex'));
  });

  const refused: Array<[string, string, string, RegExp]> = [
    ['an empty secret', '', '+79123456789', /secret/],
    ['the national form', 's1', '89123456789', /E\.164/],
    ['spaces', 's1', '+7 912 345 67 89', /E\.164/],
    ['a too short number', 's1', '+7912', /E\.164/],
    ['an empty number', 's1', '', /E\.164/],
  ];
  for (const [name, secret, number, expected] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => phoneKey(secret, number), expected));
  }
});

describe('maskPhone', () => {
  const table: Array<[string, string]> = [
    ['+79161234567', '+7916***67'],
    ['+79123456789', '+7912***89'],
    ['+380501234567', '+3805***67'],
    ['79161234567', '7916***67'],
    ['+7 916 123-45-67', '+7916***67'],
    ['12345', '***'],
    ['', '***'],
    ['не номер', '***'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(maskPhone(input), expected));
  }
});

describe('maskText', () => {
  const table: Array<[string, string]> = [
    ['', '[0 симв.]'],
    ['Привет', '[6 симв.]'],
    ['😀 ok', '[4 симв.]'], // an emoji is one character
    ['Анна, ваш заказ №84315 готов', '[28 симв.]'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(maskText(input), expected));
  }
});
