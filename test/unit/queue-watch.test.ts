import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newQueueWatch, observeQueue } from '../../src/dispatcher/queue-watch.js';

/** Feeds the counts of successive polls; returns at which poll (0-based) the SMS was judged out, or -1. */
function leftAt(counts: number[]): number {
  let watch = newQueueWatch();
  for (const [i, count] of counts.entries()) {
    const seen = observeQueue(watch, count);
    if (seen.left) return i;
    watch = seen.watch;
  }
  return -1;
}

test('an empty queue at the first poll: the SMS already left', () => {
  assert.equal(leftAt([0]), 0);
});

test('our SMS alone in the queue: out when the count drops', () => {
  assert.equal(leftAt([1, 1, 1, 0]), 3);
});

test('a long SMS is one task per part: out only when every part is', () => {
  assert.equal(leftAt([3, 2, 1, 1, 0]), 4);
  assert.equal(leftAt([3, 2, 1]), -1);
});

test('a task queued before ours: its leaving is not ours', () => {
  // Another instance's SMS (or a USSD) was ahead: the first drop is that one.
  assert.equal(leftAt([2, 1, 1]), -1);
  assert.equal(leftAt([2, 1, 0]), 2);
});

test('tasks arriving behind ours keep the count up, the drops still add up', () => {
  // Ours alone, then an incoming SMS read joins behind it: ours leaves (2 → 1) while the other stays.
  assert.equal(leftAt([1, 2, 1]), 2);
  // One ahead, one behind arrives, then two leave in steps.
  assert.equal(leftAt([2, 3, 2, 2, 1]), 4);
});

test('an arrival and a departure between two polls cancel out: later, never earlier', () => {
  // Ours left and another task arrived between the polls: the count stays 1 until that one leaves too.
  assert.equal(leftAt([1, 1, 0]), 2);
});

test('odd counts are read as an empty queue', () => {
  assert.equal(leftAt([Number.NaN]), 0);
  assert.equal(leftAt([-1]), 0);
  assert.equal(leftAt([1, Number.NaN]), 1);
});

test('the watch is a value: observing does not change the one passed in', () => {
  const first = observeQueue(newQueueWatch(), 2).watch;
  const copy = { ...first };
  observeQueue(first, 1);
  assert.deepEqual(first, copy);
  assert.deepEqual(first, { baseline: 2, last: 2, departed: 0 });
});
