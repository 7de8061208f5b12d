import { costOf, type CampaignStatus } from '../../campaigns/campaign.js';
import type { CampaignRecord, MessageRecord, ReportMessage, StateCounts, TestSendRecord } from '../../campaigns/campaigns-repo.js';
import { campaignStatusWords, messageStateWords } from '../../i18n/ru.js';

export interface CampaignLive {
  id: number;
  status: CampaignStatus;
  statusText: string;
  counts: StateCounts;
  total: number;
  /** Messages in a final state, skipped ones included. */
  done: number;
  percent: number;
  parts: number;
  cost: number;
  costSoFar: number;
  actions: { start: boolean; pause: boolean; resume: boolean; cancel: boolean };
}

/** Pure: what the campaign page and its live updates show. */
export function campaignLive(campaign: CampaignRecord, counts: StateCounts & { parts: number; sentParts: number }): CampaignLive {
  const total = counts.waiting + counts.sending + counts.sent + counts.delivered + counts.failed + counts.unknown + counts.skipped;
  const done = total - counts.waiting - counts.sending;
  const s = campaign.status;
  return {
    id: campaign.id,
    status: s,
    statusText: campaignStatusWords[s] ?? s,
    counts: { waiting: counts.waiting, sending: counts.sending, sent: counts.sent, delivered: counts.delivered, failed: counts.failed, skipped: counts.skipped, unknown: counts.unknown },
    total,
    done,
    percent: total === 0 ? 100 : Math.floor((done / total) * 100),
    parts: counts.parts,
    cost: costOf(counts.parts, campaign.pricePerPart),
    costSoFar: costOf(counts.sentParts, campaign.pricePerPart),
    actions: {
      start: s === 'draft',
      pause: s === 'running',
      resume: s === 'paused',
      cancel: s === 'draft' || s === 'running' || s === 'paused',
    },
  };
}

export interface MessageRow {
  row: number | null;
  phone: string;
  text: string;
  parts: number;
  state: string;
  stateText: string;
  modem: string;
  time: string | null;
  error: string;
}

export function messageRow(m: MessageRecord): MessageRow {
  return {
    row: m.rowNumber,
    phone: m.phone,
    text: m.text,
    parts: m.parts,
    state: m.state,
    stateText: messageStateWords[m.state] ?? m.state,
    modem: m.modem ?? '',
    time: (m.sentAt ?? m.finishedAt)?.toISOString() ?? null,
    error: m.error ?? '',
  };
}

/** A report row with the recipient's list fields, in the list's column order. */
export function reportRow(m: ReportMessage, columns: readonly string[]): MessageRow & { id: number; fields: string[] } {
  return { ...messageRow(m), id: m.id, fields: columns.map((c) => m.fields[c] ?? '') };
}

export interface TestSendRow {
  id: number;
  phone: string;
  row: number | null;
  state: string;
  stateText: string;
  time: string | null;
  error: string;
}

export function testSendRow(t: TestSendRecord): TestSendRow {
  return {
    id: t.id,
    phone: t.phone,
    row: t.rowNumber,
    state: t.state,
    stateText: messageStateWords[t.state] ?? t.state,
    time: (t.finishedAt ?? t.sentAt ?? t.createdAt)?.toISOString() ?? null,
    error: t.error ?? '',
  };
}
