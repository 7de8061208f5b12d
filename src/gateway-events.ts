import type { ComplianceService } from './compliance/compliance-service.js';
import type { Logger } from './logger.js';
import type { GatewayEvent, SmsGateway } from './modems/sms-gateway.js';
import type { NotificationsService } from './notifications/notifications-service.js';

/** The dialplan's notification event: `UserEvent(SimcastNotify,Phone: …,Template: …,…)`. */
export const notifyEventName = 'simcastnotify';

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
): () => void {
  const handle = async (event: GatewayEvent): Promise<void> => {
    if (event.type === 'inbound-sms') await handlers.compliance.receiveInbound(event);
    if (event.type === 'user-event' && event.name.toLowerCase() === notifyEventName && handlers.notifications) {
      await handlers.notifications.receiveDialplanEvent(event.headers);
    }
  };
  return gateway.subscribe((event) => {
    handle(event).catch((err: unknown) => log.error({ event: 'gateway-event.failed', kind: event.type, err }, 'could not handle a gateway event'));
  });
}
