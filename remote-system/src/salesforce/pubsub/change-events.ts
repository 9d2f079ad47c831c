import avro from 'avsc';

/**
 * Change Data Capture over the Pub/Sub API, decoded. A change event's payload is an Avro record whose first field is
 * `ChangeEventHeader`; the other fields are the record's fields, null unless they changed (or were enriched). Three
 * header fields are not names but **bitmaps** (Pub/Sub API guide, "Event Deserialization Considerations"):
 * `changedFields`, `nulledFields` and `diffFields` are arrays of hex strings. The first element (`0x…`) has bit *i* set
 * when field *i* of the event's Avro schema is in the set; an element `N-0x…` does the same for the fields of the
 * compound field at position N (an address: bit *j* is field *j* of the nested record). Bit 0 is the least significant
 * bit of the hex number. The schema to decode against is the one the event was written with (its schema id), so a
 * field added later never shifts the positions of an older event.
 *
 * Special change types: `GAP_CREATE` / `GAP_UPDATE` / `GAP_DELETE` / `GAP_UNDELETE` carry record ids but no field
 * values (re-read the records); `GAP_OVERFLOW` (a transaction of more than 100,000 changes) carries neither values nor
 * record ids, one per entity (re-read what changed of that entity). One event can carry several `recordIds` when the
 * same change was made to several records.
 */

export const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW'
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The header with the bitmaps decoded to field names (compound members as `Parent.Member`). */
export interface ChangeEventHeader {
  readonly entityName: string;
  readonly recordIds: readonly string[];
  readonly changeType: ChangeType;
  readonly changeOrigin: string;
  readonly transactionKey: string;
  readonly sequenceNumber: number;
  /** Milliseconds since the epoch. */
  readonly commitTimestamp: number;
  readonly commitNumber: number;
  readonly commitUser: string;
  readonly changedFields: readonly string[];
  readonly nulledFields: readonly string[];
  readonly diffFields: readonly string[];
}

export interface ChangeEvent {
  readonly header: ChangeEventHeader;
  /** A `GAP_*` event other than overflow: record ids without values. */
  readonly isGap: boolean;
  /** `GAP_OVERFLOW`: neither values nor record ids. */
  readonly isOverflow: boolean;
  /**
   * The record's non-null field values as sent (changed fields, and enriched fields even when unchanged), compound
   * members flattened to `Parent.Member`. A field in `header.nulledFields` was set to null.
   */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Thrown when a payload is not a change event or its bitmaps do not fit its schema. */
export class ChangeEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeEventError';
  }
}

const HEADER_FIELD = 'ChangeEventHeader';

/** The record type inside a field's type (`["null", {record}]` or a bare record), if any. */
function recordOf(type: avro.Type): avro.types.RecordType | undefined {
  if (type instanceof avro.types.RecordType) return type;
  if (
    type instanceof avro.types.UnwrappedUnionType ||
    type instanceof avro.types.WrappedUnionType
  ) {
    return (type.types as avro.Type[]).find(
      (member): member is avro.types.RecordType => member instanceof avro.types.RecordType
    );
  }
  return undefined;
}

function bitsOf(hex: string, where: string): number[] {
  if (!/^0x[0-9a-fA-F]+$/.test(hex)) {
    throw new ChangeEventError(`${where}: "${hex}" is not a 0x… hex bitmap`);
  }
  const value = BigInt(hex);
  const bits: number[] = [];
  for (let i = 0; value >> BigInt(i) > 0n; i += 1) {
    if ((value >> BigInt(i)) & 1n) bits.push(i);
  }
  return bits;
}

/**
 * Field names a bitmap array stands for, in schema order; nested members as `Parent.Member`. Throws
 * {@link ChangeEventError} for a malformed element or a bit beyond the schema (a bitmap decoded with the wrong
 * schema must fail loudly, not name the wrong fields).
 */
export function decodeFieldBitmap(type: avro.Type, bitmaps: readonly string[]): string[] {
  if (!(type instanceof avro.types.RecordType)) {
    throw new ChangeEventError('A change event schema must be an Avro record');
  }
  const fields = type.fields;
  const names: string[] = [];
  for (const element of bitmaps) {
    const nested = /^(\d+)-(0x[0-9a-fA-F]+)$/.exec(element);
    if (nested) {
      const position = Number(nested[1]);
      const parent = fields[position];
      const record = parent ? recordOf(parent.type) : undefined;
      if (!parent || !record) {
        throw new ChangeEventError(
          `Bitmap "${element}": field ${position} of ${type.name ?? 'the schema'} is not a compound field`
        );
      }
      for (const bit of bitsOf(nested[2]!, `Bitmap "${element}"`)) {
        const member = record.fields[bit];
        if (!member) {
          throw new ChangeEventError(
            `Bitmap "${element}": bit ${bit} is beyond the ${record.fields.length} fields of ${parent.name}`
          );
        }
        names.push(`${parent.name}.${member.name}`);
      }
      continue;
    }
    for (const bit of bitsOf(element, 'Bitmap')) {
      const field = fields[bit];
      if (!field) {
        throw new ChangeEventError(
          `Bitmap "${element}": bit ${bit} is beyond the ${fields.length} fields of the schema`
        );
      }
      names.push(field.name);
    }
  }
  return names;
}

/**
 * The inverse of {@link decodeFieldBitmap}: the bitmap array Salesforce would send for `names` (top-level names and
 * `Parent.Member` names). For publishers of test events and for checks; a subscriber only decodes.
 */
export function encodeFieldBitmap(type: avro.Type, names: readonly string[]): string[] {
  if (!(type instanceof avro.types.RecordType)) {
    throw new ChangeEventError('A change event schema must be an Avro record');
  }
  let top = 0n;
  const nested = new Map<number, bigint>();
  for (const name of names) {
    const [parentName, memberName] = name.split('.', 2) as [string, string | undefined];
    const position = type.fields.findIndex((field) => field.name === parentName);
    if (position < 0) throw new ChangeEventError(`No field ${parentName} in the schema`);
    if (memberName === undefined) {
      top |= 1n << BigInt(position);
      continue;
    }
    const record = recordOf(type.fields[position]!.type);
    const member = record?.fields.findIndex((field) => field.name === memberName) ?? -1;
    if (member < 0) throw new ChangeEventError(`No compound member ${name} in the schema`);
    nested.set(position, (nested.get(position) ?? 0n) | (1n << BigInt(member)));
  }
  const hex = (value: bigint) => `0x${value.toString(16).toUpperCase()}`;
  const out: string[] = [];
  if (top > 0n || nested.size > 0) out.push(hex(top));
  for (const [position, bits] of [...nested].sort((a, b) => a[0] - b[0])) {
    out.push(`${position}-${hex(bits)}`);
  }
  return out;
}

function toNumber(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new ChangeEventError(`ChangeEventHeader.${field} is not a number`);
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new ChangeEventError(`ChangeEventHeader.${field} is not an array of strings`);
  }
  return value as string[];
}

/** True when a decoded payload is a change event (its schema has a `ChangeEventHeader` field). */
export function isChangeEventPayload(payload: Record<string, unknown>): boolean {
  const header = payload[HEADER_FIELD];
  return typeof header === 'object' && header !== null;
}

/**
 * Reads a decoded change event payload: the header with its bitmaps decoded against `type` (the schema the event was
 * written with), and the non-null values, compound members flattened.
 */
export function readChangeEvent(payload: Record<string, unknown>, type: avro.Type): ChangeEvent {
  if (!isChangeEventPayload(payload)) {
    throw new ChangeEventError(`The payload has no ${HEADER_FIELD}`);
  }
  const raw = payload[HEADER_FIELD] as Record<string, unknown>;
  const changeType = String(raw.changeType) as ChangeType;
  if (!CHANGE_TYPES.includes(changeType)) {
    throw new ChangeEventError(`Unknown changeType "${String(raw.changeType)}"`);
  }
  const header: ChangeEventHeader = {
    entityName: String(raw.entityName ?? ''),
    recordIds: stringList(raw.recordIds, 'recordIds'),
    changeType,
    changeOrigin: String(raw.changeOrigin ?? ''),
    transactionKey: String(raw.transactionKey ?? ''),
    sequenceNumber: toNumber(raw.sequenceNumber ?? 0, 'sequenceNumber'),
    commitTimestamp: toNumber(raw.commitTimestamp ?? 0, 'commitTimestamp'),
    commitNumber: toNumber(raw.commitNumber ?? 0, 'commitNumber'),
    commitUser: String(raw.commitUser ?? ''),
    changedFields: decodeFieldBitmap(type, stringList(raw.changedFields ?? [], 'changedFields')),
    nulledFields: decodeFieldBitmap(type, stringList(raw.nulledFields ?? [], 'nulledFields')),
    diffFields: decodeFieldBitmap(type, stringList(raw.diffFields ?? [], 'diffFields'))
  };
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (name === HEADER_FIELD || value === null || value === undefined) continue;
    if (typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
      for (const [member, memberValue] of Object.entries(value as Record<string, unknown>)) {
        if (memberValue !== null && memberValue !== undefined) {
          values[`${name}.${member}`] = memberValue;
        }
      }
      continue;
    }
    values[name] = value;
  }
  return {
    header,
    isGap: changeType.startsWith('GAP_') && changeType !== 'GAP_OVERFLOW',
    isOverflow: changeType === 'GAP_OVERFLOW',
    values
  };
}
