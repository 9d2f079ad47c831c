import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { encodeFieldBitmap, type ChangeType } from '../../src/salesforce/pubsub/change-events';
import type { AvroRecordSchema, PubSubStandIn, StandInEvent } from './pubsub-server';

/**
 * Change Data Capture on the local Pub/Sub API stand-in: builds change event payloads the way Salesforce fills them for
 * a Pub/Sub API subscriber (Change Data Capture Developer Guide, "Change Event Message Structure" and "Differences
 * Between Change Events Received with Streaming API vs. Pub/Sub API"), and publishes them on a channel topic of the
 * stand-in (`/data/<Entity>ChangeEvent`, `/data/ChangeEvents` or a custom `/data/<Name>__chn`):
 *
 * - every record field is present; unchanged fields are null unless enriched;
 * - `changedFields` / `nulledFields` / `diffFields` are bitmaps over the schema's field order, compound members as
 *   `N-0x…`; a field set to null is in both `changedFields` and `nulledFields`; `changedFields` is empty for a create;
 * - gap events (`GAP_*`) carry record ids and no values; an overflow event (`GAP_OVERFLOW`) carries neither;
 * - one event may carry several record ids (the same change to several records in one transaction).
 *
 * Kept apart from `pubsub-server.ts`: it only uses the stand-in's public `publish`.
 */

export interface ChangeSpec {
  readonly changeType: ChangeType;
  readonly recordIds: readonly string[];
  readonly entityName?: string;
  /** Changed fields and their new values; compound members as `BillingAddress.City`; null sets a field to null. */
  readonly changed?: Readonly<Record<string, unknown>>;
  /** Values sent though unchanged (channel enrichment, fields used by the filter). */
  readonly enriched?: Readonly<Record<string, unknown>>;
  readonly commitTimestamp?: number;
  readonly commitNumber?: number;
  readonly transactionKey?: string;
  readonly sequenceNumber?: number;
  readonly commitUser?: string;
  readonly changeOrigin?: string;
}

let commitSequence = 10_000_000_000;

/** The Avro payload (as `avsc` encodes it) of one change event for `schema`. */
export function changeEventPayload(
  schema: AvroRecordSchema,
  spec: ChangeSpec
): Record<string, unknown> {
  const type = avro.Type.forSchema(schema as avro.Schema) as avro.types.RecordType;
  const isGap = spec.changeType.startsWith('GAP_');
  const payload: Record<string, unknown> = {};
  const compound = new Map<string, string[]>();
  for (const field of type.fields) {
    if (field.name === 'ChangeEventHeader') continue;
    payload[field.name] = null;
    const member = (field.type as { types?: avro.Type[] }).types?.find(
      (t) => t instanceof avro.types.RecordType
    ) as avro.types.RecordType | undefined;
    if (member)
      compound.set(
        field.name,
        member.fields.map((f) => f.name)
      );
  }
  const put = (name: string, value: unknown) => {
    const [parent, member] = name.split('.', 2) as [string, string | undefined];
    if (!(parent in payload)) throw new Error(`No field ${parent} in ${type.name ?? 'the schema'}`);
    if (member === undefined) {
      payload[parent] = value;
      return;
    }
    const members = compound.get(parent);
    if (!members?.includes(member)) throw new Error(`No compound member ${name}`);
    const current =
      (payload[parent] as Record<string, unknown> | null) ??
      Object.fromEntries(members.map((m) => [m, null]));
    payload[parent] = { ...current, [member]: value };
  };
  if (!isGap) {
    for (const [name, value] of Object.entries(spec.enriched ?? {})) put(name, value);
    for (const [name, value] of Object.entries(spec.changed ?? {})) put(name, value);
  }
  const changedNames = isGap ? [] : Object.keys(spec.changed ?? {});
  const nulledNames = changedNames.filter((name) => spec.changed![name] === null);
  commitSequence += 1;
  payload.ChangeEventHeader = {
    entityName: spec.entityName ?? 'Account',
    recordIds: [...spec.recordIds],
    changeType: spec.changeType,
    changeOrigin: spec.changeOrigin ?? 'com/salesforce/api/rest/67.0',
    transactionKey: spec.transactionKey ?? randomUUID(),
    sequenceNumber: spec.sequenceNumber ?? 1,
    commitTimestamp: spec.commitTimestamp ?? Date.now(),
    commitNumber: spec.commitNumber ?? commitSequence,
    commitUser: spec.commitUser ?? '005000000000001AAA',
    nulledFields: encodeFieldBitmap(type, nulledNames),
    diffFields: [],
    changedFields: spec.changeType === 'CREATE' ? [] : encodeFieldBitmap(type, changedNames)
  };
  return payload;
}

/** Publishes change events on `topic` of the stand-in, encoded with the topic's current schema. */
export function publishChanges(
  standIn: PubSubStandIn,
  topic: string,
  schema: AvroRecordSchema,
  specs: readonly ChangeSpec[]
): StandInEvent[] {
  return standIn.publish(
    topic,
    specs.map((spec) => changeEventPayload(schema, spec))
  );
}
