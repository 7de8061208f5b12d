import { renderTemplate } from '../templates/render.js';
import { countSegments, segmentProblem } from '../templates/segments.js';
import { ru } from '../i18n/ru.js';
import { recipientExclusion, type ExclusionReason } from '../compliance/consent.js';
import { costOf } from './campaign.js';
import { transliterate } from '../templates/translit.js';

export interface PlanContact {
  id: number;
  /** The list the contact came from (a campaign may target several). */
  listId?: number;
  rowNumber: number;
  phone: string;
  fields: Record<string, string>;
}

export interface PlannedMessage {
  contactId: number;
  listId?: number;
  rowNumber: number;
  phone: string;
  text: string;
  characters: number;
  parts: number;
  encoding: 'gsm7' | 'ucs2';
  /** With «транслит»: the parts the text would take as written (the saving is the difference). */
  partsWithoutTranslit?: number;
  /** The fields that had no value and no default (empty when none). */
  missing: string[];
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
  /** Every broken row in full (row of its list, number, what is wrong). */
  problems: Array<{ row: number; phone: string; problem: string; listId?: number }>;
  /** With «транслит»: parts and cost of the sendable rows without it, and what it saves. */
  translit?: { partsWithout: number; costWithout: number; savedParts: number; savedCost: number };
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
  options: { translit?: boolean } = {},
): PlannedMessage {
  const rendered = renderTemplate(template, contact.fields);
  const { missing } = rendered;
  // Translit applies to the whole rendered text: the names from the file are Cyrillic too.
  const text = options.translit ? transliterate(rendered.text) : rendered.text;
  const seg = countSegments(text);
  let problem: string | null = null;
  if (missing.length > 0) problem = ru.campaigns.missingFields(missing);
  else if (text.trim() === '') problem = ru.campaigns.emptyText;
  else problem = segmentProblem(text, seg, maxParts) ?? gatewayProblem(text);
  const planned: PlannedMessage = {
    contactId: contact.id,
    rowNumber: contact.rowNumber,
    phone: contact.phone,
    text,
    characters: seg.characters,
    parts: seg.parts,
    encoding: seg.encoding,
    missing,
    problem,
  };
  if (contact.listId !== undefined) planned.listId = contact.listId;
  if (options.translit) planned.partsWithoutTranslit = countSegments(rendered.text).parts;
  return planned;
}

/** Totals over planned messages: only sendable rows count towards parts and cost. */
export function summarise(messages: readonly PlannedMessage[], pricePerPart: number): PlanSummary {
  let parts = 0;
  let partsWithout = 0;
  let translit = false;
  let sendable = 0;
  const problems: PlanSummary['problems'] = [];
  const excluded = { stopList: 0, noConsent: 0 };
  for (const m of messages) {
    if (m.exclusion === 'stop-list') excluded.stopList++;
    else if (m.exclusion === 'no-consent') excluded.noConsent++;
    else if (m.problem) problems.push(m.listId === undefined ? { row: m.rowNumber, phone: m.phone, problem: m.problem } : { row: m.rowNumber, phone: m.phone, problem: m.problem, listId: m.listId });
    else {
      sendable++;
      parts += m.parts;
      if (m.partsWithoutTranslit !== undefined) {
        translit = true;
        partsWithout += m.partsWithoutTranslit;
      } else partsWithout += m.parts;
    }
  }
  const summary: PlanSummary = { recipients: messages.length, sendable, parts, cost: costOf(parts, pricePerPart), problems, excluded };
  if (translit) {
    summary.translit = {
      partsWithout,
      costWithout: costOf(partsWithout, pricePerPart),
      savedParts: partsWithout - parts,
      savedCost: costOf(partsWithout - parts, pricePerPart),
    };
  }
  return summary;
}
