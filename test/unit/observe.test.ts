import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, metricsAccess } from '../../src/observe/health.js';
import { parseExposition, total } from '../helpers/prom-text.js';

describe('metricsAccess: /metrics from this host, or with a token', () => {
  it('loopback addresses, IPv4, IPv6 and IPv4-mapped, need no token', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
      assert.equal(isLoopback(address), true, address);
      assert.equal(metricsAccess(address, false), true, address);
    }
  });

  it('any other address needs a valid token', () => {
    for (const address of ['10.0.0.5', '192.168.1.20', '::ffff:192.168.1.20', 'fe80::1', '::', '0.0.0.0', '128.0.0.1', undefined, '', 'localhost']) {
      assert.equal(metricsAccess(address, false), false, String(address));
      assert.equal(metricsAccess(address, true), true, String(address));
    }
  });

  it('a request through a proxy is not local, even from a proxy on this host', () => {
    assert.equal(metricsAccess('127.0.0.1', false, true), false);
    assert.equal(metricsAccess('::1', false, true), false);
    assert.equal(metricsAccess('127.0.0.1', true, true), true);
  });
});

describe('the exposition parser of the tests is strict', () => {
  it('reads families, labels with escapes and special values', () => {
    const families = parseExposition(
      [
        '# HELP a_total A counter',
        '# TYPE a_total counter',
        'a_total{x="1",y="q\\"u\\\\o\\nte"} 3',
        '# TYPE h histogram',
        'h_bucket{le="+Inf"} 2',
        'h_sum 1.5e-3',
        'h_count 2',
        '# TYPE g gauge',
        'g NaN',
        'g{k="v"} -Inf 1700000000000',
        '',
      ].join('\n'),
    );
    assert.equal(families.get('a_total')?.help, 'A counter');
    assert.deepEqual(families.get('a_total')?.samples[0]?.labels, { x: '1', y: 'q"u\\o\nte' });
    assert.equal(total(families, 'h_count'), 2);
    assert.equal(families.get('g')?.samples.length, 2);
  });

  it('refuses what Prometheus would refuse', () => {
    const bad = [
      'x 1\n', // no TYPE
      '# TYPE x gauge\n# TYPE x gauge\nx 1\n',
      '# TYPE x gauge\nx{a="1",a="2"} 1\n',
      '# TYPE x gauge\nx 1\nx 2\n',
      '# TYPE x gauge\nx one\n',
      '# TYPE x gauge\nx{1a="b"} 1\n',
      '# TYPE x gauge\nx{a=b} 1\n',
      '# TYPE x gauge\nx 1', // no final newline
      '# TYPE x thing\n',
      '# TYPE c counter\nc -1\n',
      '# TYPE x gauge\n x 1\n',
    ];
    for (const text of bad) assert.throws(() => parseExposition(text), Error, JSON.stringify(text));
  });
});
