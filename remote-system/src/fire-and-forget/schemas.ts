import { Type, type Static } from '@sinclair/typebox';

/** Shapes of the Fire and Forget console API, defined once (validation, types, OpenAPI). */

export const StatusResponse = Type.Object({
  consumer: Type.String(),
  topic: Type.String(),
  checkpoint: Type.Union([
    Type.Object({ replayId: Type.String(), updatedAt: Type.String() }),
    Type.Null()
  ]),
  eventsReceived: Type.Integer({ description: 'Events received, redeliveries included.' }),
  duplicatesIgnored: Type.Integer({ description: 'Redelivered event ids the ledger skipped.' }),
  invoicesCreated: Type.Integer(),
  alreadyInvoiced: Type.Integer({
    description: 'New events for Opportunities that already had an invoice.'
  }),
  deadLetters: Type.Object({
    open: Type.Integer(),
    replayed: Type.Integer(),
    discarded: Type.Integer()
  }),
  writeBack: Type.Object({ pending: Type.Integer(), done: Type.Integer(), failed: Type.Integer() })
});
export type StatusResponse = Static<typeof StatusResponse>;

export const InvoiceRequestView = Type.Object({
  eventId: Type.String(),
  replayId: Type.String(),
  opportunityId: Type.String(),
  invoiceNumber: Type.String(),
  outcome: Type.Union([Type.Literal('created'), Type.Literal('already-invoiced')]),
  correlationId: Type.Union([Type.String(), Type.Null()]),
  receivedAt: Type.String(),
  writeBackStatus: Type.Union([
    Type.Literal('pending'),
    Type.Literal('done'),
    Type.Literal('failed')
  ]),
  writeBackAttempts: Type.Integer(),
  writeBackError: Type.Union([Type.String(), Type.Null()])
});
export type InvoiceRequestView = Static<typeof InvoiceRequestView>;

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    status: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('replayed'), Type.Literal('discarded')])
    )
  },
  { additionalProperties: false }
);
export type ListQuery = Static<typeof ListQuery>;

export const InvoiceRequestList = Type.Object({ items: Type.Array(InvoiceRequestView) });

export const DeadLetterView = Type.Object({
  id: Type.Integer(),
  eventId: Type.String(),
  replayId: Type.String(),
  schemaId: Type.String(),
  payload: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: Type.String(),
  attempts: Type.Integer(),
  status: Type.Union([Type.Literal('open'), Type.Literal('replayed'), Type.Literal('discarded')]),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()])
});

export const DeadLetterList = Type.Object({ items: Type.Array(DeadLetterView) });

export const DeadLetterParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export type DeadLetterParams = Static<typeof DeadLetterParams>;

export const ReplayResponse = Type.Object({
  deadLetter: DeadLetterView,
  outcome: Type.Union([Type.Literal('applied'), Type.Literal('duplicate')])
});

export const RequeueResponse = Type.Object({ requeued: Type.Integer() });
