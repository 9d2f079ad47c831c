import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../http';

/** Shapes of the UI Update console API, defined once (validation, types, OpenAPI). */

const Counts = Type.Object({
  pending: Type.Integer(),
  published: Type.Integer(),
  rejected: Type.Integer({ description: 'Refused by Salesforce (a PublishResult error).' }),
  failed: Type.Integer({ description: 'Transport failures after every attempt.' })
});

const PublisherStats = Type.Object({
  requests: Type.Integer({ description: 'PublishRequests sent (each ≤ 200 events, ≤ 3 MB).' }),
  published: Type.Integer(),
  rejected: Type.Integer(),
  failed: Type.Integer(),
  retries: Type.Integer({ description: 'Events sent again after a transient failure.' }),
  streamsOpened: Type.Integer(),
  maxEventsInRequest: Type.Integer(),
  maxBytesInRequest: Type.Integer()
});

export const StatusResponse = Type.Object({
  running: Type.Boolean(),
  ratePerSecond: Type.Integer(),
  topic: Type.String(),
  transport: StringEnum(['stream', 'unary'] as const),
  changes: Type.Integer({ description: 'Status changes made since the server started.' }),
  outbox: Counts,
  publisher: Type.Union([PublisherStats, Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()])
});
export type StatusResponse = Static<typeof StatusResponse>;

export const RateBody = Type.Object(
  {
    ratePerSecond: Type.Integer({
      minimum: 0,
      maximum: 1000,
      description: 'Status changes per second; 0 stops the simulator.'
    })
  },
  { additionalProperties: false }
);
export type RateBody = Static<typeof RateBody>;

export const StepBody = Type.Object(
  { count: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }) },
  { additionalProperties: false }
);
export type StepBody = Static<typeof StepBody>;

const ChangeView = Type.Object({
  eventId: Type.String(),
  shipmentNumber: Type.String(),
  customerNumber: Type.String(),
  status: Type.String(),
  previousStatus: Type.Union([Type.String(), Type.Null()])
});

export const StepResponse = Type.Object({ changes: Type.Array(ChangeView) });
export type StepResponse = Static<typeof StepResponse>;

export const FailureView = Type.Object({
  eventId: Type.String(),
  shipmentNumber: Type.String(),
  customerNumber: Type.String(),
  status: Type.String(),
  state: StringEnum(['rejected', 'failed'] as const),
  attempts: Type.Integer(),
  errorCode: Type.Union([Type.String(), Type.Null()]),
  errorMessage: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String()
});

export const FailureList = Type.Object({ items: Type.Array(FailureView) });
export type FailureList = Static<typeof FailureList>;

export const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
  { additionalProperties: false }
);
export type ListQuery = Static<typeof ListQuery>;

export const RequeueResponse = Type.Object({ requeued: Type.Integer() });
