import { z } from 'zod';

/**
 * Settings staff may change while the service runs (stored in the `settings` table).
 * Defaults are what a new install starts with.
 */
export const settingsSchema = z.object({
  /** Pause after each SMS on a modem before the next one, seconds (0 allowed: tests, simulator). */
  sendPauseSeconds: z.number().min(0).max(3600),
  /** Price of one SMS part in roubles, for cost estimates. */
  pricePerPart: z.number().min(0).max(100),
  /** The most parts one message may take; longer messages are flagged before Start. */
  maxParts: z.number().int().min(1).max(10),
  /** A message with no report this long after it was handed to chan_dongle becomes `unknown`. */
  messageTimeoutSeconds: z.number().int().min(10).max(86_400),
});

export type Settings = z.infer<typeof settingsSchema>;

export const defaultSettings: Settings = Object.freeze({
  sendPauseSeconds: 20,
  pricePerPart: 0.06,
  maxParts: 7,
  messageTimeoutSeconds: 90,
});

/** A partial update, every field checked; unknown keys are an error, not silently ignored. */
export const settingsPatchSchema = settingsSchema.partial().strict();
