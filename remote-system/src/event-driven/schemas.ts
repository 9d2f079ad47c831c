import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../http';
import { CONSUMER_NAMES } from './contract';

/** Shapes of the Event-Driven Architecture console API, defined once (validation, types, OpenAPI). */

export const ConsumerNameSchema = StringEnum(CONSUMER_NAMES);

export const ConsumerStatus = Type.Object({
  name: ConsumerNameSchema,
  checkpoint: Type.Union([
    Type.Object({ replayId: Type.String(), updatedAt: Type.String() }),
    Type.Null()
  ]),
  eventsReceived: Type.Integer({ description: 'Events received, redeliveries included.' }),
  eventsHandled: Type.Integer({ description: 'Distinct events applied or dead-lettered.' }),
  duplicatesIgnored: Type.Integer(),
  lastChange: Type.Union([
    Type.Object({ changeType: Type.String(), commitTimestamp: Type.Integer() }),
    Type.Null()
  ]),
  eventsBehind: Type.Integer({
    description: 'Events the furthest-ahead consumer has handled and this one has not.'
  }),
  lagMs: Type.Union([Type.Integer(), Type.Null()], {
    description: "Commit-time distance to the furthest-ahead consumer's last handled change."
  }),
  deadLettersOpen: Type.Integer(),
  resyncRequestsOpen: Type.Integer(),
  knob: StringEnum(['none', 'throw', 'hang'] as const)
});
export type ConsumerStatus = Static<typeof ConsumerStatus>;

export const StatusResponse = Type.Object({
  topic: Type.String(),
  consumers: Type.Array(ConsumerStatus)
});
export type StatusResponse = Static<typeof StatusResponse>;

export const ConsumerParams = Type.Object({ name: ConsumerNameSchema });
export type ConsumerParams = Static<typeof ConsumerParams>;

export const KnobBody = Type.Object(
  {
    mode: StringEnum(['none', 'throw', 'hang'] as const, {
      description:
        'throw: the handler fails; hang: its asynchronous step never answers; none: healthy'
    })
  },
  { additionalProperties: false }
);
export type KnobBody = Static<typeof KnobBody>;

export const DeadLetterQuery = Type.Object(
  {
    consumer: ConsumerNameSchema,
    status: Type.Optional(StringEnum(['open', 'replayed', 'discarded'] as const)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 }))
  },
  { additionalProperties: false }
);
export type DeadLetterQuery = Static<typeof DeadLetterQuery>;

export const DeadLetterView = Type.Object({
  id: Type.Integer(),
  consumer: Type.String(),
  eventId: Type.String(),
  replayId: Type.String(),
  schemaId: Type.String(),
  payload: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: Type.String(),
  attempts: Type.Integer(),
  status: StringEnum(['open', 'replayed', 'discarded'] as const),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()])
});
export const DeadLetterList = Type.Object({ items: Type.Array(DeadLetterView) });

export const DeadLetterParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export type DeadLetterParams = Static<typeof DeadLetterParams>;

export const ReplayRequested = Type.Object({
  deadLetterId: Type.Integer(),
  consumer: Type.String(),
  requestedAt: Type.String()
});

export const SegmentsResponse = Type.Object({
  segments: Type.Array(Type.Object({ segment: Type.String(), accounts: Type.Integer() }))
});

export const AnalyticsResponse = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      changeType: Type.String(),
      events: Type.Integer(),
      records: Type.Integer()
    })
  ),
  resyncRequests: Type.Array(
    Type.Object({
      consumer: Type.String(),
      entity: Type.String(),
      reason: Type.String(),
      eventId: Type.String(),
      requestedAt: Type.String()
    })
  )
});
