import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import type { ModemInfo } from '../modems/sms-gateway.js';
import { describeForecast, forecastFinish } from '../scheduling/forecast.js';
import { paceOf, recentSendPaces } from '../sims/send-pace-repo.js';
import { whyWaiting } from '../scheduling/waiting.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { simBudgetState, type SimRecord, type SimsRepo } from '../sims/sims-repo.js';
import type { CampaignRecord } from './campaigns-repo.js';

export interface CampaignSchedule {
  /** Why the campaign is not sending right now, and until when; null while it sends. */
  waiting: { reason: string; until: Date | null; text: string } | null;
  /** When it will finish at the best, given its SIMs, their limits and pauses, and the window. */
  forecast: { finishAt: Date | null; text: string };
}

/**
 * The campaign's outlook for the page and the API: the pure `whyWaiting` and `forecastFinish`
 * fed with the SIMs' ledgers, the modems chan_dongle reports now and the settings.
 * The forecast is the best case: other campaigns and notifications sharing the SIMs are not
 * counted.
 */
export class CampaignScheduler {
  /**
   * The outlook reads every waiting message and every SIM (100k messages: tens of ms), and the
   * live page polls every couple of seconds per viewer. So it is kept per campaign and recomputed
   * off the request path: a request older than `cacheMs` gets the kept outlook at once and starts
   * one recomputation in the background for the next poll. Only the first look at a campaign and
   * a status change (start, pause, finish: must show at once) compute on the request path.
   */
  private readonly cache = new Map<number, { at: number; status: string; schedule: CampaignSchedule; refreshing: boolean }>();
  private readonly cacheMs = 5000;

  constructor(
    private readonly knex: Knex,
    private readonly sims: SimsRepo,
    private readonly settings: SettingsRepo,
    private readonly modems: () => Promise<readonly ModemInfo[]>,
    private readonly clock: Clock,
  ) {}

  async schedule(campaign: CampaignRecord): Promise<CampaignSchedule> {
    const at = this.clock.now().getTime();
    const hit = this.cache.get(campaign.id);
    if (hit && hit.status === campaign.status) {
      if (at - hit.at >= this.cacheMs && !hit.refreshing) {
        hit.refreshing = true;
        // A failed recomputation keeps the last outlook; the next poll tries again.
        this.compute(campaign)
          .then((schedule) => this.keep(campaign, this.clock.now().getTime(), schedule))
          .catch(() => {
            hit.refreshing = false;
          });
      }
      return hit.schedule;
    }
    const schedule = await this.compute(campaign);
    this.keep(campaign, at, schedule);
    return schedule;
  }

  private keep(campaign: CampaignRecord, at: number, schedule: CampaignSchedule): void {
    if (this.cache.size > 100 && !this.cache.has(campaign.id)) this.cache.clear();
    this.cache.set(campaign.id, { at, status: campaign.status, schedule, refreshing: false });
  }

  private async compute(campaign: CampaignRecord): Promise<CampaignSchedule> {
    const now = this.clock.now();
    const settings = await this.settings.get();
    const modems = await this.modems();
    const usable = (await this.sims.all(now, settings.timezone)).filter((s) => !campaign.sims || campaign.sims.includes(s.imsi));
    const ready = (s: SimRecord) => modems.some((m) => m.imsi === s.imsi && m.ready);
    const window = campaign.ignoreWindow ? null : settings.window;
    const parts: number[] = await this.knex('messages').where({ campaign_id: campaign.id, state: 'waiting' }).orderBy('id').pluck('parts');
    const done = campaign.status === 'finished' || campaign.status === 'cancelled';

    const waiting = done
      ? null
      : whyWaiting({
          now,
          timeZone: settings.timezone,
          window,
          campaignStatus: campaign.status,
          sims: usable.map((s) => ({ ...simBudgetState(s), ready: ready(s) })),
          hasWaitingMessages: parts.length > 0,
        });
    if (done) return { waiting: null, forecast: { finishAt: campaign.finishedAt, text: '' } };
    // Each SIM's own pace from its last messages; the default (3 s an SMS) only without history.
    const paces = await recentSendPaces(this.knex);
    const forecast = forecastFinish({
      now,
      timeZone: settings.timezone,
      window,
      sims: usable.map((s) => {
        const pace = paceOf(paces, s.imsi);
        return {
          dailyLimit: s.dailyLimit,
          monthlyLimit: s.monthlyLimit,
          usedToday: s.usedToday,
          usedThisMonth: s.usedThisMonth,
          minPauseSeconds: s.minPauseSeconds,
          maxPauseSeconds: s.maxPauseSeconds,
          // Without history: the old per-message assumption, as the forecast has always made it.
          sendSeconds: pace.seconds,
          ...(pace.learned ? { sendSecondsPerPart: pace.seconds } : {}),
          enabled: s.enabled && ready(s),
          nextSendAt: laterOf(s.nextSendAt, s.outOfRotationUntil),
        };
      }),
      remainingParts: parts,
    });
    return {
      waiting: waiting ? { reason: waiting.reason, until: waiting.until, text: waiting.text } : null,
      forecast: { finishAt: forecast.finishAt, text: describeForecast(forecast.finishAt, now, settings.timezone, forecast.problem) },
    };
  }
}

function laterOf(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
