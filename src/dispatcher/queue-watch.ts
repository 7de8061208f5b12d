/**
 * When has our SMS left the modem, with delivery reports on? chan_dongle then raises no event at
 * the modem's `+CMGS` (its only DongleReport is the operator's status report, seconds to days
 * later), but its per-device AT queue still tells: `TasksInQueue` in DongleShowDevices counts one
 * task per SMS part, and a task leaves the queue at its `+CMGS` (docs/ami-protocol.md §2.5b).
 *
 * Pure: the dispatcher feeds the device's count from each poll, this says whether our SMS is out.
 *
 * The queue is FIFO for everything AMI and the SIM add (SMS, USSD, SIM reads: at the tail), so
 * when the first count after our submit is `baseline`, our parts are among those `baseline`
 * tasks and are out once `baseline` tasks have left. Tasks arriving behind ours (another
 * instance's SMS on the same PBX, an incoming SMS read) raise the count, so departures are
 * counted as the sum of the drops between polls: a lower bound of what really left (an arrival
 * and a departure between two polls cancel out), so the verdict may come a poll late but never
 * early. An empty queue always means out. Not covered: chan_dongle puts a call's commands and its
 * keep-alive `AT` right behind the task being run; one arriving while ours waits behind another
 * task makes us count it as ours (a PBX that calls on its SMS modems: the SMS is still sent a
 * moment later, unless the modem hangs right then).
 *
 * A device that was dropped flushed its queue without a word, so a count after that proves
 * nothing: the dispatcher stops watching (see `Dispatcher`), and the message is settled by its
 * timeout (`unknown`) or by a late delivery report.
 */
export interface QueueWatch {
  /** The device's count at the first poll after our submit; null before that poll. */
  baseline: number | null;
  /** The count at the last poll. */
  last: number;
  /** Tasks seen leaving since the baseline (sum of drops between polls). */
  departed: number;
}

export const newQueueWatch = (): QueueWatch => ({ baseline: null, last: 0, departed: 0 });

/** The watch after one more poll that showed `count` tasks, and whether our SMS has left. */
export function observeQueue(watch: QueueWatch, count: number): { watch: QueueWatch; left: boolean } {
  const tasks = Number.isFinite(count) && count > 0 ? Math.floor(count) : 0;
  if (watch.baseline === null) return { watch: { baseline: tasks, last: tasks, departed: 0 }, left: tasks === 0 };
  const departed = watch.departed + Math.max(0, watch.last - tasks);
  return { watch: { baseline: watch.baseline, last: tasks, departed }, left: tasks === 0 || departed >= watch.baseline };
}
