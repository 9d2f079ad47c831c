import type { FastifyInstance } from 'fastify';
import { errorBodySchema, HttpError } from '../http';
import type { PatternDependencies, PatternModule } from '../pattern-module';
import { DeadLetterStore, type DeadLetter } from '../salesforce/pubsub';
import { setKnob } from './consumers';
import { CONSUMER_NAMES, DEFAULT_TOPIC } from './contract';
import {
  AnalyticsResponse,
  ConsumerParams,
  ConsumerStatus,
  DeadLetterList,
  DeadLetterParams,
  DeadLetterQuery,
  DeadLetterView,
  KnobBody,
  ReplayRequested,
  SegmentsResponse,
  StatusResponse
} from './schemas';
import { readStatus } from './status';

export const PATTERN_NAME = 'event-driven';

export interface EventDrivenModuleOptions {
  /** The channel topic the status names; `EVENT_DRIVEN_TOPIC` through the config by default. */
  readonly topic?: string;
}

/**
 * The ERP's half of Event-Driven Architecture, as the server shows it. The three consumers run in the subscriber
 * process (`npm run event-driven:subscribe`) and write their effects, checkpoints and dead letters to the shared
 * database; these routes report each consumer's position, lag and dead letters, flip the knob that breaks one
 * consumer for the demo, discard a dead letter, or ask the subscriber process to replay one.
 */
export function createEventDrivenModule(options: EventDrivenModuleOptions = {}): PatternModule {
  const topic = options.topic ?? DEFAULT_TOPIC;
  return {
    name: PATTERN_NAME,
    title: 'Event-Driven Architecture',
    summary:
      'One Account change stream (Change Data Capture on a custom channel) feeds three independent ERP consumers, each with its own checkpoint.',
    register(app: FastifyInstance, deps: PatternDependencies): void {
      const letters = new DeadLetterStore(deps.db);
      const errors = { 400: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };
      const ourConsumers: readonly string[] = CONSUMER_NAMES;

      /** An open dead letter of one of this pattern's consumers: 404 for any other id, 409 once it is closed. */
      function openDeadLetter(id: number): DeadLetter {
        const row = deps.db
          .prepare('SELECT consumer FROM pubsub_dead_letters WHERE id = ?')
          .get(id) as { consumer: string } | undefined;
        const letter =
          row && ourConsumers.includes(row.consumer) ? letters.get(row.consumer, id) : undefined;
        if (!letter) throw new HttpError(404, 'NOT_FOUND', `No event-driven dead letter ${id}`);
        if (letter.status !== 'open') {
          throw new HttpError(409, 'CONFLICT', `Dead letter ${id} is already ${letter.status}`);
        }
        return letter;
      }

      app.get(
        '/status',
        {
          schema: {
            summary: "Each consumer's checkpoint, lag, dead letters and knob",
            response: { 200: StatusResponse }
          }
        },
        async () => readStatus(deps.db, topic)
      );

      app.put<{ Params: ConsumerParams; Body: KnobBody }>(
        '/consumers/:name/knob',
        {
          schema: {
            summary: 'Break one consumer for the demo (throw | hang) or heal it (none)',
            params: ConsumerParams,
            body: KnobBody,
            response: { 200: ConsumerStatus, ...errors }
          }
        },
        async (request) => {
          setKnob(deps.db, request.params.name, request.body.mode);
          deps.traffic.note(PATTERN_NAME, `${request.params.name} knob: ${request.body.mode}`);
          return readStatus(deps.db, topic).consumers.find((c) => c.name === request.params.name)!;
        }
      );

      app.get<{ Querystring: DeadLetterQuery }>(
        '/dead-letters',
        {
          schema: {
            summary: "A consumer's dead letters, newest first",
            querystring: DeadLetterQuery,
            response: { 200: DeadLetterList, ...errors }
          }
        },
        async (request) => ({
          items: letters.list(request.query.consumer, {
            ...(request.query.status ? { status: request.query.status } : {}),
            limit: request.query.limit ?? 50
          })
        })
      );

      app.post<{ Params: DeadLetterParams }>(
        '/dead-letters/:id/replay',
        {
          schema: {
            summary: 'Ask the subscriber process to run a dead letter through its consumer again',
            params: DeadLetterParams,
            response: { 202: ReplayRequested, ...errors }
          }
        },
        async (request, reply) => {
          const letter = openDeadLetter(request.params.id);
          const requestedAt = new Date().toISOString();
          deps.db
            .prepare(
              `INSERT INTO event_driven_replay_requests (dead_letter_id, consumer, requested_at) VALUES (?, ?, ?)
               ON CONFLICT (dead_letter_id) DO UPDATE SET requested_at = excluded.requested_at, outcome = NULL,
                 error = NULL, done_at = NULL`
            )
            .run(request.params.id, letter.consumer, requestedAt);
          deps.traffic.note(PATTERN_NAME, `replay of dead letter ${request.params.id} requested`);
          return reply
            .code(202)
            .send({ deadLetterId: request.params.id, consumer: letter.consumer, requestedAt });
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
          const letter = openDeadLetter(request.params.id);
          letters.markResolved(letter.id, 'discarded');
          deps.traffic.note(PATTERN_NAME, `dead letter ${letter.id} discarded`);
          return letters.get(letter.consumer, letter.id)!;
        }
      );

      app.get(
        '/segments',
        {
          schema: { summary: 'Accounts per marketing segment', response: { 200: SegmentsResponse } }
        },
        async () => ({
          segments: deps.db
            .prepare(
              'SELECT segment, count(*) AS accounts FROM event_driven_segment_members WHERE deleted = 0 GROUP BY segment ORDER BY segment'
            )
            .all() as { segment: string; accounts: number }[]
        })
      );

      app.get(
        '/analytics',
        {
          schema: {
            summary: 'Changes per day and change type; open re-sync requests',
            response: { 200: AnalyticsResponse }
          }
        },
        async () => ({
          days: deps.db
            .prepare(
              'SELECT day, change_type AS changeType, events, records FROM event_driven_change_counts ORDER BY day DESC, change_type LIMIT 100'
            )
            .all() as { day: string; changeType: string; events: number; records: number }[],
          resyncRequests: deps.db
            .prepare(
              `SELECT consumer, entity, reason, event_id AS eventId, requested_at AS requestedAt
               FROM event_driven_resync_requests WHERE status = 'open' ORDER BY id DESC LIMIT 100`
            )
            .all() as {
            consumer: string;
            entity: string;
            reason: string;
            eventId: string;
            requestedAt: string;
          }[]
        })
      );
    }
  };
}
