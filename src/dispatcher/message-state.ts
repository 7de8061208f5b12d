import type { SubmitResult } from '../modems/sms-gateway.js';

/**
 * A message's one honest state (see CONTEXT.md beside this file):
 * waiting → sending → sent → delivered; sending → failed | unknown | waiting (refused before
 * chan_dongle queued it, so nothing can have reached the phone); waiting → skipped.
 */
export const messageStates = ['waiting', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'unknown'] as const;
export type MessageState = (typeof messageStates)[number];

/** States a message never leaves on its own; `unknown` may still learn the truth from a late report. */
export const finalStates: ReadonlySet<MessageState> = new Set(['sent', 'delivered', 'failed', 'skipped', 'unknown']);

export type Transition =
  | { state: 'waiting'; notBefore: Date; error: string }
  | { state: 'sent' | 'delivered'; error: null }
  | { state: 'failed' | 'unknown' | 'skipped'; error: string };

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay before the n-th retry (n starts at 1). */
  backoffMs(attempt: number): number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 3,
  backoffMs: (attempt) => Math.min(30_000 * 2 ** (attempt - 1), 10 * 60_000),
};

/**
 * What a submit's outcome does to a `sending` message. `null`: it stays `sending` until its
 * report (or the timeout) arrives.
 */
export function afterSubmit(
  result: SubmitResult,
  attempts: number,
  now: Date,
  retry: RetryPolicy = defaultRetryPolicy,
): Transition | null {
  switch (result.kind) {
    case 'queued':
      return null;
    case 'refused':
      // Refused before chan_dongle queued it: nothing went out, so another try is safe.
      if (result.retryable && attempts < retry.maxAttempts) {
        return { state: 'waiting', notBefore: new Date(now.getTime() + retry.backoffMs(attempts)), error: result.reason };
      }
      return { state: 'failed', error: result.reason };
    case 'uncertain':
      // The action may have been queued: resending could message the person twice.
      return { state: 'unknown', error: result.reason };
  }
}

export interface ReportOutcome {
  success: boolean;
  /** 0: modem result, 1: delivery report, 2: expired without a final result. */
  reportType: 0 | 1 | 2;
  detail: string;
}

/**
 * What a DongleReport does. Reports are matched by our id in Payload; a report may arrive after
 * we gave up (`unknown`), and then it tells the truth, so it is applied.
 * Returns null when the report changes nothing (duplicate, or a message already final).
 */
export function afterReport(current: MessageState, report: ReportOutcome): Transition | null {
  if (current !== 'sending' && current !== 'unknown' && current !== 'sent') return null;
  if (report.reportType === 1) {
    return report.success
      ? { state: 'delivered', error: null }
      : { state: 'failed', error: reportError(report, 'Оператор сообщил, что SMS не доставлено') };
  }
  if (current === 'sent') return null;
  if (report.reportType === 2) return { state: 'unknown', error: reportError(report, 'Срок жизни SMS истёк без ответа оператора') };
  return report.success
    ? { state: 'sent', error: null }
    : // chan_dongle reports Success 0 when any part was refused while later parts may still go out:
      // the person may get a fragment, so this is final and never retried automatically.
      { state: 'failed', error: reportError(report, 'Модем не смог отправить SMS') };
}

function reportError(report: ReportOutcome, text: string): string {
  return report.detail ? `${text} (${report.detail})` : text;
}
