import { z } from 'zod';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { issuesText } from '../i18n/validation-messages.js';
import type { SmsGateway, ModemInfo } from '../modems/sms-gateway.js';
import type { SettingsRepo } from '../settings/settings-repo.js';
import { sendPace, type SendPace } from '../scheduling/send-pace.js';
import type { SimRecord, SimsRepo } from './sims-repo.js';

export const simPatchSchema = z
  .object({
    enabled: z.boolean({ error: 'enabled: true или false' }),
    dailyLimit: z.number({ error: 'dailyLimit: число частей SMS в сутки' }).int('dailyLimit: целое число').min(0, 'dailyLimit: не меньше 0').max(100_000, 'dailyLimit: не больше 100000'),
    monthlyLimit: z.number({ error: 'monthlyLimit: число частей SMS в месяц' }).int('monthlyLimit: целое число').min(0, 'monthlyLimit: не меньше 0').max(1_000_000, 'monthlyLimit: не больше 1000000'),
    minPauseSeconds: z.number({ error: 'minPauseSeconds: секунды' }).min(0, 'minPauseSeconds: не меньше 0').max(3600, 'minPauseSeconds: не больше 3600'),
    maxPauseSeconds: z.number({ error: 'maxPauseSeconds: секунды' }).min(0, 'maxPauseSeconds: не меньше 0').max(3600, 'maxPauseSeconds: не больше 3600'),
    pricePerPart: z.number({ error: 'pricePerPart: рубли за часть' }).min(0, 'pricePerPart: не меньше 0').max(100, 'pricePerPart: не больше 100'),
  })
  .partial()
  .strict();

export type SimPatchInput = z.infer<typeof simPatchSchema>;

/** A SIM as the modems page and the API show it: our settings and ledger, plus its modem now. */
export interface SimView extends SimRecord {
  modem: ModemInfo | null;
  /** Taken out of rotation after failures, until this time. */
  resting: boolean;
  /** How long it takes per SMS part, learned from its last messages (the default without history). */
  sendPace: SendPace;
}

export class SimsService {
  constructor(
    private readonly repo: SimsRepo,
    private readonly settings: SettingsRepo,
    private readonly gateway: SmsGateway,
    private readonly clock: Clock,
    /** Each SIM's learned pace (src/sims/send-pace-repo.ts); without it every SIM shows the default. */
    private readonly paces: () => Promise<ReadonlyMap<string, SendPace>> = async () => new Map(),
  ) {}

  /** Every SIM we know, with the modem it sits in now (null when its modem is gone). */
  async list(modems: readonly ModemInfo[]): Promise<SimView[]> {
    const now = this.clock.now();
    const { timezone } = await this.settings.get();
    const sims = await this.repo.all(now, timezone);
    const paces = await this.paces();
    return sims.map((s) => ({
      ...s,
      modem: modems.find((m) => m.imsi === s.imsi) ?? null,
      resting: s.outOfRotationUntil !== null && s.outOfRotationUntil > now,
      sendPace: paces.get(s.imsi) ?? sendPace([]),
    }));
  }

  private cached: { at: number; modems: ModemInfo[] } | null = null;

  /**
   * The modems as chan_dongle reported them at most `maxAgeMs` ago: the live campaign page polls
   * every couple of seconds, and one DongleShowDevices serves every viewer.
   */
  async recentModems(maxAgeMs = 5000): Promise<ModemInfo[]> {
    const now = this.clock.now().getTime();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.modems;
    const { modems } = await this.modems();
    this.cached = { at: now, modems: modems ?? [] };
    return this.cached.modems;
  }

  /** The modems chan_dongle reports now, or null with the reason when Asterisk is out of reach. */
  async modems(): Promise<{ modems: ModemInfo[] | null; error: string | null }> {
    if (!this.gateway.isConnected()) {
      return { modems: null, error: 'Нет связи с Asterisk (AMI). Проверьте, что Asterisk запущен и настройки AMI верны; служба переподключается сама.' };
    }
    try {
      return { modems: await this.gateway.listModems(), error: null };
    } catch {
      return { modems: null, error: 'Asterisk не ответил на запрос списка модемов. Обновите страницу через минуту.' };
    }
  }

  async update(imsi: string, input: unknown): Promise<SimRecord> {
    const parsed = simPatchSchema.safeParse(input);
    if (!parsed.success) throw new AppError('VALIDATION', issuesText(parsed.error).join('; '));
    const now = this.clock.now();
    const { timezone } = await this.settings.get();
    const current = await this.repo.get(imsi, now, timezone);
    if (!current) throw new AppError('NOT_FOUND', `SIM-карта ${imsi} не найдена.`);
    const patch = parsed.data;
    const min = patch.minPauseSeconds ?? current.minPauseSeconds;
    const max = patch.maxPauseSeconds ?? current.maxPauseSeconds;
    if (max < min) throw new AppError('VALIDATION', 'Наибольшая пауза не может быть меньше наименьшей.');
    await this.repo.update(imsi, patch);
    return (await this.repo.get(imsi, now, timezone))!;
  }
}
