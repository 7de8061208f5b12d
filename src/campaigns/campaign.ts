/**
 * A campaign's life: draft → running ⇄ paused → finished | cancelled.
 * Pause and cancel act before the next message: the dispatcher claims only from running
 * campaigns, in the same statement that claims the message.
 */
export const campaignStatuses = ['draft', 'running', 'paused', 'finished', 'cancelled'] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];
export type CampaignKind = 'service' | 'advertising';

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';

const transitions: Record<CampaignAction, { from: CampaignStatus[]; to: CampaignStatus }> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'cancelled' },
};

/** The status an action leads to, or null if the action does not apply in `from`. */
export function nextStatus(from: CampaignStatus, action: CampaignAction): CampaignStatus | null {
  const t = transitions[action];
  return t.from.includes(from) ? t.to : null;
}

export function allowedFrom(action: CampaignAction): readonly CampaignStatus[] {
  return transitions[action].from;
}

/** The cost of `parts` SMS parts, rounded to kopecks. */
export function costOf(parts: number, pricePerPart: number): number {
  return Math.round(parts * pricePerPart * 100) / 100;
}
