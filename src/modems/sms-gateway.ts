/**
 * The port between simcast and whatever actually sends SMS. The dispatcher sees only this;
 * the chan_dongle-over-AMI adapter (ami/dongle-gateway.ts) is one implementation.
 */

/** One modem as chan_dongle reports it (DongleShowDevices / DongleDeviceEntry). */
export interface ModemInfo {
  /** dongle.conf section name, e.g. "dongle0": what DongleSendSMS's Device takes. */
  device: string;
  imsi: string | null;
  imei: string | null;
  /** chan_dongle's State: "Free", "Not connected", "GSM not registered", "SMS", … */
  state: string;
  /** GSMRegistrationStatus, e.g. "Registered, home network". */
  registration: string;
  /** RSSI as reported, e.g. "20, -73 dBm". */
  signal: string | null;
  operator: string | null;
  /** TasksInQueue: chan_dongle's in-RAM queue length for this device. */
  queue: number;
  /** Sendable: State is not one of the dead states and registration starts with "Registered". */
  ready: boolean;
}

export interface SubmitRequest {
  /** Our message id; travels as Payload and comes back in DongleReport. */
  messageId: string;
  device: string;
  /** E.164, "+7XXXXXXXXXX". */
  to: string;
  /** Plain text as the recipient should read it (the adapter escapes it for chan_dongle). */
  text: string;
  /**
   * Ask for a delivery report (the admin's setting). Absent: the gateway's default. With it,
   * current chan_dongle builds send no "sent" event, only the delivery report or the expiry (the
   * dispatcher then reads chan_dongle's queue, `listModems(device)`, to see the SMS leave).
   */
  deliveryReport?: boolean;
}

/**
 * What became of a submit:
 * - `queued`: chan_dongle acknowledged ("SMS queued for send"); the outcome arrives as a report.
 * - `refused`: chan_dongle answered Response: Error, so nothing was queued and nothing can reach
 *   the phone. `retryable` is true when the cause is the device (disconnected, queue error),
 *   false when it is the message (invalid number, bad text).
 * - `uncertain`: we cannot know whether chan_dongle queued it (timeout, connection lost after
 *   the action was written). Never resend such a message automatically.
 */
export type SubmitResult =
  | { kind: 'queued' }
  | { kind: 'refused'; retryable: boolean; reason: string }
  | { kind: 'uncertain'; reason: string };

export type GatewayEvent =
  /** DongleReport (current builds) or DongleSMSStatus (classic builds, mapped by the adapter):
   *  Type 0 = sent (Success 1) or refused by the modem (Success 0),
   *  Type 1 = delivery report (success false: a part has a permanent error),
   *  Type 2 = expired without a final result. With delivery reports on (`Report: yes`), current
   *  builds send NO Type 0 on success: only Type 1 or Type 2. `detail` says why, for people. */
  | { type: 'report'; messageId: string; device: string; success: boolean; reportType: 0 | 1 | 2; detail: string }
  | { type: 'modem-status'; device: string; status: string }
  | { type: 'inbound-sms'; device: string; from: string; text: string }
  /** A dialplan `UserEvent(Name,Key: value,…)`: `name` as written, `headers` the body headers
   *  only (the channel's own headers left out), names lower-cased as AMI matches them, values untrusted. */
  | { type: 'user-event'; name: string; headers: Readonly<Record<string, string>> }
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string };

/**
 * Which chan_dongle is installed (docs/ami-protocol.md §2.1):
 * - `current` (wdoekes master since 2020): Payload + DongleReport, Message C-unescaped, concatenated SMS;
 * - `classic` (bg111 1.1.x, wdoekes before 2020): ack `ID:` + DongleSMSStatus, Message sent verbatim
 *   (no line breaks possible), ONE part only (70 UCS-2 / 140 GSM-7 characters); see
 *   `ami/classic.ts` `classicTextProblem` to flag messages before a campaign starts.
 */
export type GatewayGeneration = 'classic' | 'current';

export interface SmsGateway {
  /**
   * The chan_dongle generation detected (after connecting, from DongleShowDevices; or from an
   * ack), null while unknown. Optional: gateways without generations (fakes) don't implement it.
   */
  generation?(): GatewayGeneration | null;
  /**
   * Why this gateway could not send `text` as one message (Russian, for the preview), or null.
   * Classic chan_dongle builds, for example, send only single-part SMS without line breaks.
   */
  textProblem?(text: string): string | null;
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /**
   * Current modems (only `device`, when given: one short answer for a queue poll); rejects when
   * the gateway is not connected.
   */
  listModems(device?: string): Promise<ModemInfo[]>;
  isConnected(): boolean;
  /** Subscribe to events; returns the unsubscribe function. */
  subscribe(listener: (event: GatewayEvent) => void): () => void;
  close(): Promise<void>;
}
