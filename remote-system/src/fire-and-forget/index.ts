import type { FastifyInstance } from 'fastify';
import { errorBodySchema, HttpError } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { DeadLetterError, DeadLetterStore, replayDeadLetter } from '../salesforce/pubsub';
import { loadFireAndForgetConfig, type FireAndForgetConfig } from './config';
import { createInvoiceConsumer } from './invoicing';
import {
  DeadLetterList,
  DeadLetterParams,
  DeadLetterView,
  InvoiceRequestList,
  ListQuery,
  ReplayResponse,
  RequeueResponse,
  StatusResponse
} from './schemas';
import { readStatus, recentInvoiceRequests } from './status';
import { requeueFailedWriteBacks } from './writeback';

export const PATTERN_NAME = 'fire-and-forget';

export interface FireAndForgetModuleOptions {
  /** Pattern settings; read from `FIRE_AND_FORGET_*` / `SF_PUBSUB_*` when omitted. */
  readonly config?: FireAndForgetConfig;
}

/**
 * The ERP's half of Fire and Forget, as the server shows it: the subscriber (`npm run subscribe`, a process of its
 * own) writes invoices, checkpoints and dead letters to the shared database; these routes report them and let a person
 * replay or discard a dead letter and re-queue failed write-backs.
 */
export function createFireAndForgetModule(options: FireAndForgetModuleOptions = {}): PatternModule {
  const config = options.config ?? loadFireAndForgetConfig();
  const consumer = createInvoiceConsumer({ name: config.consumerName, topic: config.topic });
  return {
    name: PATTERN_NAME,
    title: 'Fire and Forget',
    summary:
      'Closed-won Opportunities arrive as Platform Events over the Pub/Sub API; the ERP invoices each exactly once.',
    register(app: FastifyInstance, deps: PatternDependencies): void {
      const letters = new DeadLetterStore(deps.db);
      const errors = {
        400: errorBodySchema,
        404: errorBodySchema,
        409: errorBodySchema,
        422: errorBodySchema
      };
      const toHttp = (error: unknown): never => {
        if (error instanceof DeadLetterError) {
          throw new HttpError(error.code === 'NOT_FOUND' ? 404 : 409, error.code, error.message);
        }
        throw new HttpError(
          422,
          'REPLAY_FAILED',
          `The consumer failed again: ${error instanceof Error ? error.message : String(error)}`
        );
      };

      app.get(
        '/status',
        {
          schema: { summary: 'Subscriber checkpoint and counts', response: { 200: StatusResponse } }
        },
        async () => readStatus(deps.db, consumer.name, consumer.topic)
      );

      app.get<{ Querystring: ListQuery }>(
        '/invoices',
        {
          schema: {
            summary: 'Invoice requests received from Salesforce, newest first',
            querystring: ListQuery,
            response: { 200: InvoiceRequestList, ...errors }
          }
        },
        async (request) => ({ items: recentInvoiceRequests(deps.db, request.query.limit ?? 50) })
      );

      app.get<{ Querystring: ListQuery }>(
        '/dead-letters',
        {
          schema: {
            summary: 'Events the consumer could not process, newest first',
            querystring: ListQuery,
            response: { 200: DeadLetterList, ...errors }
          }
        },
        async (request) => ({
          items: letters.list(consumer.name, {
            ...(request.query.status ? { status: request.query.status } : {}),
            limit: request.query.limit ?? 50
          })
        })
      );

      app.post<{ Params: DeadLetterParams }>(
        '/dead-letters/:id/replay',
        {
          schema: {
            summary:
              'Run a dead letter through the invoicing consumer again (after fixing its cause)',
            params: DeadLetterParams,
            response: { 200: ReplayResponse, ...errors }
          }
        },
        async (request) => {
          try {
            const { letter, outcome } = replayDeadLetter(deps.db, consumer, request.params.id);
            deps.traffic.note(PATTERN_NAME, `dead letter ${letter.id} replayed: ${outcome}`, {
              eventId: letter.eventId
            });
            return { deadLetter: letter, outcome };
          } catch (error) {
            return toHttp(error);
          }
        }
      );

      app.post<{ Params: DeadLetterParams }>(
        '/dead-letters/:id/discard',
        {
          schema: {
            summary: 'Close a dead letter without applying it',
            params: DeadLetterParams,
            response: { 200: DeadLetterView, ...errors }
          }
        },
        async (request) => {
          const letter = letters.get(consumer.name, request.params.id);
          if (!letter) throw new HttpError(404, 'NOT_FOUND', `No dead letter ${request.params.id}`);
          if (letter.status !== 'open') {
            throw new HttpError(
              409,
              'CONFLICT',
              `Dead letter ${letter.id} is already ${letter.status}`
            );
          }
          letters.markResolved(letter.id, 'discarded');
          deps.traffic.note(PATTERN_NAME, `dead letter ${letter.id} discarded`);
          return letters.get(consumer.name, letter.id)!;
        }
      );

      app.post(
        '/write-back/requeue',
        {
          schema: {
            summary: 'Put write-backs that exhausted their attempts back in the queue',
            response: { 200: RequeueResponse }
          }
        },
        async () => {
          const requeued = requeueFailedWriteBacks(deps.db);
          deps.traffic.note(PATTERN_NAME, `${requeued} write-backs re-queued`);
          return { requeued };
        }
      );
    }
  };
}
