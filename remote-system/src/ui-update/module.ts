import type { FastifyInstance } from 'fastify';
import type { SalesforceConnectionConfig } from '../config';
import { errorResponses, HttpError } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { createSalesforceAuth, SalesforceAuthError, type SalesforceAuth } from '../salesforce';
import { loadUiUpdateConfig, type UiUpdateConfig } from './config';
import { outboxRows } from './outbox';
import {
  FailureList,
  ListQuery,
  RateBody,
  RequeueResponse,
  StatusResponse,
  StepBody,
  StepResponse
} from './schemas';
import { UiUpdateService } from './service';

export const PATTERN_NAME = 'ui-update';

export interface UiUpdateModuleOptions {
  /** Pattern settings; read from `UI_UPDATE_*` / `SF_PUBSUB_*` when omitted. */
  readonly config?: UiUpdateConfig;
  /** How the publisher reaches the org (`config.salesforce` of the server). */
  readonly salesforce?: SalesforceConnectionConfig;
  /** A ready session source (tests); wins over `salesforce`. */
  readonly auth?: SalesforceAuth;
  /** Simulator tick in milliseconds (tests shorten it). */
  readonly tickMs?: number;
}

/**
 * The ERP's half of UI Update Based on Data Changes, as the server shows it: a shipment simulator that moves ERP
 * shipments through their statuses and publishes each change as `Shipment_Status_Changed__e` through the Pub/Sub API
 * (see {@link UiUpdateService}); these routes set its rate, step it by hand, and show and re-queue failed events.
 */
export function createUiUpdateModule(options: UiUpdateModuleOptions = {}): PatternModule {
  const config = options.config ?? loadUiUpdateConfig();
  return {
    name: PATTERN_NAME,
    title: 'UI Update Based on Data Changes',
    summary:
      'A shipment simulator publishes each status change as a Platform Event through the Pub/Sub API; the Account page updates live.',
    register(app: FastifyInstance, deps: PatternDependencies): void {
      let auth: SalesforceAuth | undefined = options.auth;
      const service = new UiUpdateService({
        db: deps.db,
        config,
        auth: () => {
          auth ??= createSalesforceAuth(options.salesforce ?? { mode: 'none' });
          return auth;
        },
        note: (message, details) => deps.traffic.note(PATTERN_NAME, message, details),
        ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {})
      });
      app.addHook('onClose', async () => service.close());
      /** Runs `work`, turning "no Salesforce connection" into a 409 that says which settings to set. */
      const withOrg = <T>(work: () => T): T => {
        try {
          return work();
        } catch (error) {
          if (error instanceof SalesforceAuthError) {
            throw new HttpError(
              409,
              'SALESFORCE_NOT_CONFIGURED',
              `Publishing needs the org: ${error.message}`
            );
          }
          throw error;
        }
      };
      if (config.autostart && config.ratePerSecond > 0) withOrg(() => service.start());

      app.get(
        '/status',
        {
          schema: {
            summary: 'Simulator rate, outbox counts and publisher statistics',
            response: { 200: StatusResponse }
          }
        },
        async () => service.status()
      );

      app.put<{ Body: RateBody }>(
        '/rate',
        {
          schema: {
            summary: 'Set the simulator rate (status changes per second; 0 stops it)',
            body: RateBody,
            response: { 200: StatusResponse, ...errorResponses({ 400: undefined, 409: undefined }) }
          }
        },
        async (request) => {
          const rate = request.body.ratePerSecond;
          if (rate === 0) service.stop();
          else withOrg(() => service.start(rate));
          return service.status();
        }
      );

      app.post<{ Body: StepBody }>(
        '/step',
        {
          schema: {
            summary: 'Move shipments one status further now and publish the events',
            body: StepBody,
            response: { 200: StepResponse, ...errorResponses({ 400: undefined, 409: undefined }) }
          }
        },
        async (request) => {
          const changes = withOrg(() => service.step(request.body.count ?? 1));
          return {
            changes: changes.map((change) => ({
              eventId: change.eventId,
              shipmentNumber: change.shipmentNumber,
              customerNumber: change.customerNumber,
              status: change.status,
              previousStatus: change.previousStatus
            }))
          };
        }
      );

      app.get<{ Querystring: ListQuery }>(
        '/failures',
        {
          schema: {
            summary: 'Shipment events Salesforce rejected or that could not be sent, newest first',
            querystring: ListQuery,
            response: { 200: FailureList, ...errorResponses({ 400: undefined }) }
          }
        },
        async (request) => ({
          items: outboxRows(deps.db, ['rejected', 'failed'], request.query.limit ?? 50).map(
            (row) => ({
              eventId: row.eventId,
              shipmentNumber: row.shipmentNumber,
              customerNumber: row.customerNumber,
              status: row.status,
              state: row.state as 'rejected' | 'failed',
              attempts: row.attempts,
              errorCode: row.errorCode,
              errorMessage: row.errorMessage,
              updatedAt: row.updatedAt
            })
          )
        })
      );

      app.post(
        '/failures/requeue',
        {
          schema: {
            summary: 'Send rejected and failed shipment events again',
            response: { 200: RequeueResponse, ...errorResponses({ 409: undefined }) }
          }
        },
        async () => {
          const requeued = withOrg(() => service.requeue());
          deps.traffic.note(PATTERN_NAME, `${requeued} shipment event(s) re-queued`);
          return { requeued };
        }
      );
    }
  };
}
