import type { ComplianceService } from './compliance/compliance-service.js';
import { maskPhone } from './compliance/redact.js';
import type { Logger } from './logger.js';
import type { GatewayEvent, SmsGateway } from './modems/sms-gateway.js';
import type { NotificationsService } from './notifications/notifications-service.js';

/** The dialplan's notification event: `UserEvent(SimcastNotify,Phone: …,Template: …,…)`. */
export const notifyEventName = 'simcastnotify';

/**
 * Waits between tries to store an incoming SMS. chan_dongle has already deleted it from the SIM
 * (`autodeletesms=yes`), so a database hiccup (a restart, a failover) must not lose a «СТОП»:
 * we try for about a minute before giving up with an error that names the modem and the sender.
 */
export const inboundRetryDelaysMs: readonly number[] = [500, 1000, 2000, 4000, 8000, 16000, 30000];

/**
 * Waits between tries to handle a dialplan `SimcastNotify` when the database fails. Shorter than for
 * an incoming SMS: a "we will call you back" that arrives a minute after the call is of little use.
 */
export const dialplanRetryDelaysMs: readonly number[] = [500, 1000, 2000, 4000, 8000];

/**
 * Gateway events that are not the dispatcher's (it follows reports and modem states itself):
 * incoming SMS go to compliance (inbox, opt-out), the dialplan's `SimcastNotify` UserEvent to
 * notifications. One subscriber, one handler per kind. A UserEvent arrives only on the AMI
 * connection of the PBX that raised it, so each instance handles its own PBX's events.
 */
export function routeGatewayEvents(
  gateway: SmsGateway,
  handlers: { compliance: ComplianceService; notifications?: NotificationsService },
  log: Logger,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
): () => void {
  let closed = false;
  /** Runs `task` until it succeeds, or gives up when `delays` run out or we are closing. */
  const persistently = async (task: () => Promise<unknown>, delays: readonly number[], onRetry: (attempt: number, err: unknown) => void, onGiveUp: (err: unknown) => void): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await task();
        return;
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined || closed) return onGiveUp(err);
        onRetry(attempt + 1, err);
        await sleep(delay);
      }
    }
  };
  const receive = (event: Extract<GatewayEvent, { type: 'inbound-sms' }>) =>
    persistently(
      () => handlers.compliance.receiveInbound(event),
      inboundRetryDelaysMs,
      (attempt, err) => log.warn({ event: 'inbound.retry', device: event.device, attempt, err }, 'could not store an incoming SMS yet, retrying'),
      (err) => log.error({ event: 'inbound.lost', device: event.device, from: maskPhone(event.from), err }, 'an incoming SMS could not be stored: check the modem\'s SMS by hand'),
    );
  const notify = (notifications: NotificationsService, headers: Readonly<Record<string, string>>) =>
    persistently(
      () => notifications.handleDialplanEvent(headers),
      dialplanRetryDelaysMs,
      (attempt, err) => log.warn({ event: 'dialplan.retry', attempt, err }, 'could not handle a dialplan event yet, retrying'),
      (err) => notifications.dialplanLost(err),
    );
  const unsubscribe = gateway.subscribe((event) => {
    if (event.type === 'inbound-sms') void receive(event);
    else if (event.type === 'user-event' && event.name.toLowerCase() === notifyEventName && handlers.notifications) {
      // Every outcome, a database that stays down included, is logged and counted by the service.
      void notify(handlers.notifications, event.headers);
    }
  });
  return () => {
    closed = true;
    unsubscribe();
  };
}
