import type { ComplianceService } from './compliance/compliance-service.js';
import type { Logger } from './logger.js';
import type { GatewayEvent, SmsGateway } from './modems/sms-gateway.js';

/**
 * Gateway events that are not the dispatcher's (it follows reports and modem states itself):
 * incoming SMS go to compliance (inbox, opt-out). One subscriber, one handler per kind, so a new
 * kind (the dialplan's UserEvent) gets its own line here instead of growing the dispatcher.
 */
export function routeGatewayEvents(gateway: SmsGateway, handlers: { compliance: ComplianceService }, log: Logger): () => void {
  const handle = async (event: GatewayEvent): Promise<void> => {
    if (event.type === 'inbound-sms') await handlers.compliance.receiveInbound(event);
  };
  return gateway.subscribe((event) => {
    handle(event).catch((err: unknown) => log.error({ event: 'gateway-event.failed', kind: event.type, err }, 'could not handle a gateway event'));
  });
}
