/**
 * How long a SIM really takes to send one SMS part, learned from its own recent messages.
 *
 * The forecast used to assume 3 s for every modem; real modems take 5–10 s and differ from one
 * another, so a campaign on fast SIMs was promised days it finishes in hours. Each sample is the
 * time from the claim to the moment the SMS left the modem (chan_dongle's DongleReport Type 0, or
 * the submit seen in its queue with delivery reports on — never the delivery report, which comes
 * seconds to days later and says nothing of the modem's pace), divided by the message's parts so a
 * long text does not make a SIM look slow.
 *
 * The median, not the mean: one message stuck behind a modem reset must not move the figure.
 */

/** The assumption for a SIM without enough history of its own (seconds per part). */
export const defaultSendSeconds = 3;
/** How many recent messages make up a SIM's history. */
export const paceWindow = 50;
/** Fewer usable samples than this: too little to trust, the default is used. */
export const minPaceSamples = 5;
/**
 * A sample above this is not a pace but an accident (a claim left over a restart, a modem that
 * hung and came back): chan_dongle itself gives up on a modem long before 10 minutes.
 */
export const maxSampleSeconds = 600;

export interface SendPace {
  /** Typical seconds per SMS part for this SIM. */
  seconds: number;
  /** Usable samples behind `seconds`; below `minPaceSamples` it is the default. */
  samples: number;
  /** True when `seconds` comes from the SIM's own history, false when it is the default. */
  learned: boolean;
}

/** One message a SIM sent: seconds from its claim to the SMS leaving the modem, and its parts. */
export interface SendSample {
  seconds: number;
  parts: number;
}

/** Seconds per part of one message, or null when its times cannot be a sample. */
export function perPartSeconds(sample: SendSample): number | null {
  const { seconds, parts } = sample;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > maxSampleSeconds) return null;
  return seconds / Math.max(1, Number.isFinite(parts) ? Math.ceil(parts) : 1);
}

/**
 * The SIM's typical seconds per part from its recent messages, newest first (only the first
 * `paceWindow` count). Absurd samples (negative, not a number, over `maxSampleSeconds`) are
 * dropped before counting.
 */
export function sendPace(samplesNewestFirst: readonly SendSample[], fallback = defaultSendSeconds): SendPace {
  const usable: number[] = [];
  for (const sample of samplesNewestFirst.slice(0, paceWindow)) {
    const seconds = perPartSeconds(sample);
    if (seconds !== null) usable.push(seconds);
  }
  if (usable.length < minPaceSamples) return { seconds: fallback, samples: usable.length, learned: false };
  return { seconds: median(usable), samples: usable.length, learned: true };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
