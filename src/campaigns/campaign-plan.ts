import { renderTemplate } from '../templates/render.js';
import { countSegments, segmentProblem } from '../templates/segments.js';
import { ru } from '../i18n/ru.js';
import { recipientExclusion, type ExclusionReason } from '../compliance/consent.js';
import { costOf } from './campaign.js';

export interface PlanContact {
  id: number;
  rowNumber: number;
  phone: string;
  fields: Record<string, string>;
}

export interface PlannedMessage {
  contactId: number;
  rowNumber: number;
  phone: string;
  text: string;
  characters: number;
  parts: number;
  encoding: 'gsm7' | 'ucs2';
  /** Why this row will not be sent (Russian), or null when it is fine. */
  problem: string | null;
  /** Set when the row is left out by law (stop-list, no consent), not by its text; `problem` then says why. */
  exclusion?: ExclusionReason | null;
}

/** What compliance knows about one number of the list, read once for the whole list. */
export interface RecipientStanding {
  stopListed: boolean;
  /** The contact's data was erased on request: never messaged again. */
  erased: boolean;
  consented: boolean;
}

export interface PlanSummary {
  recipients: number;
  /** Recipients that will be sent (no problem). */
  sendable: number;
  parts: number;
  cost: number;
  problems: Array<{ row: number; phone: string; problem: string }>;
  /** Recipients left out by law: on the stop-list (or erased), and, for advertising, without consent. */
  excluded: { stopList: number; noConsent: number };
}

/**
 * Marks the messages the law leaves out (compliance/consent.ts decides): stop-listed or erased
 * numbers for every campaign, numbers without consent for an advertising one. Rows that already
 * have a text problem keep it.
 */
export function applyExclusions(
  messages: readonly PlannedMessage[],
  kind: 'service' | 'advertising',
  standing: (phone: string) => RecipientStanding | undefined,
): PlannedMessage[] {
  return messages.map((m) => {
    if (m.problem) return m;
    const s = standing(m.phone) ?? { stopListed: false, erased: false, consented: false };
    const exclusion = recipientExclusion({ kind, stopListed: s.stopListed, suppressed: s.erased, consented: s.consented });
    return exclusion ? { ...m, problem: exclusion.text, exclusion: exclusion.reason } : m;
  });
}

/**
 * Renders the template for one contact and decides whether the result may be sent.
 * A row whose field is missing or empty, or whose text takes more than `maxParts`, is flagged here,
 * before anything is sent.
 */
export function planMessage(
  template: string,
  contact: PlanContact,
  maxParts: number,
  /** What the installed gateway cannot send (e.g. multi-part on classic chan_dongle). */
  gatewayProblem: (text: string) => string | null = () => null,
): PlannedMessage {
  const { text, missing } = renderTemplate(template, contact.fields);
  const seg = countSegments(text);
  let problem: string | null = null;
  if (missing.length > 0) problem = ru.campaigns.missingFields(missing);
  else if (text.trim() === '') problem = ru.campaigns.emptyText;
  else problem = segmentProblem(text, seg, maxParts) ?? gatewayProblem(text);
  return {
    contactId: contact.id,
    rowNumber: contact.rowNumber,
    phone: contact.phone,
    text,
    characters: seg.characters,
    parts: seg.parts,
    encoding: seg.encoding,
    problem,
  };
}

/** Totals over planned messages: only sendable rows count towards parts and cost. */
export function summarise(messages: readonly PlannedMessage[], pricePerPart: number): PlanSummary {
  let parts = 0;
  let sendable = 0;
  const problems: PlanSummary['problems'] = [];
  const excluded = { stopList: 0, noConsent: 0 };
  for (const m of messages) {
    if (m.exclusion === 'stop-list') excluded.stopList++;
    else if (m.exclusion === 'no-consent') excluded.noConsent++;
    else if (m.problem) problems.push({ row: m.rowNumber, phone: m.phone, problem: m.problem });
    else {
      sendable++;
      parts += m.parts;
    }
  }
  return { recipients: messages.length, sendable, parts, cost: costOf(parts, pricePerPart), problems, excluded };
}
