import avro from 'avsc';
import {
  ChangeEventError,
  decodeFieldBitmap,
  encodeFieldBitmap,
  readChangeEvent
} from '../../../src/salesforce/pubsub';

/**
 * Change Data Capture decoding against a small schema whose bitmaps are worked out by hand (bit i = field i of the
 * schema, least significant bit first; `N-0x…` = members of the compound field at position N).
 */
const nullable = (type: avro.Schema): { type: avro.Schema; default: null } => ({
  type: ['null', type] as avro.Schema,
  default: null
});
const type = avro.Type.forSchema({
  type: 'record',
  name: 'WidgetChangeEvent',
  fields: [
    {
      name: 'ChangeEventHeader',
      type: {
        type: 'record',
        name: 'ChangeEventHeader',
        fields: [
          { name: 'entityName', type: 'string' },
          { name: 'recordIds', type: { type: 'array', items: 'string' } },
          {
            name: 'changeType',
            type: {
              type: 'enum',
              name: 'ChangeType',
              symbols: ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE', 'GAP_UPDATE', 'GAP_OVERFLOW']
            }
          },
          { name: 'changeOrigin', type: 'string' },
          { name: 'transactionKey', type: 'string' },
          { name: 'sequenceNumber', type: 'int' },
          { name: 'commitTimestamp', type: 'long' },
          { name: 'commitNumber', type: 'long' },
          { name: 'commitUser', type: 'string' },
          { name: 'nulledFields', type: { type: 'array', items: 'string' } },
          { name: 'diffFields', type: { type: 'array', items: 'string' } },
          { name: 'changedFields', type: { type: 'array', items: 'string' } }
        ]
      }
    },
    { name: 'Name', ...nullable('string') }, // 1
    {
      name: 'ShipTo', // 2
      ...nullable({
        type: 'record',
        name: 'Address',
        fields: ['Street', 'City', 'Country'].map((n) => ({ name: n, ...nullable('string') }))
      })
    },
    ...Array.from({ length: 70 }, (_, i) => ({ name: `F${i + 3}__c`, ...nullable('long') })) // 3..72
  ]
});

const header = (changeType: string, extra: Record<string, unknown> = {}) => ({
  entityName: 'Widget__c',
  recordIds: ['a00000000000001AAA'],
  changeType,
  changeOrigin: '',
  transactionKey: 'tx-1',
  sequenceNumber: 1,
  commitTimestamp: 1767261600000,
  commitNumber: 42,
  commitUser: '005000000000001AAA',
  nulledFields: [],
  diffFields: [],
  changedFields: [],
  ...extra
});

describe('Change Data Capture bitmaps', () => {
  it('decodes top-level bits in schema order, least significant bit first', () => {
    // 0x6 = bits 1 and 2 (Name, ShipTo); 0x8 = bit 3 (F3__c)
    expect(decodeFieldBitmap(type, ['0x6'])).toEqual(['Name', 'ShipTo']);
    expect(decodeFieldBitmap(type, ['0x8'])).toEqual(['F3__c']);
  });

  it('decodes bitmaps wider than 64 bits', () => {
    // bit 72 is F72__c, bit 1 is Name
    expect(decodeFieldBitmap(type, ['0x1000000000000000002'])).toEqual(['Name', 'F72__c']);
  });

  it('decodes compound members as Parent.Member', () => {
    // 2-0x5 = members 0 and 2 of field 2 (ShipTo.Street, ShipTo.Country)
    expect(decodeFieldBitmap(type, ['0x2', '2-0x5'])).toEqual([
      'Name',
      'ShipTo.Street',
      'ShipTo.Country'
    ]);
  });

  it('refuses a bit beyond the schema, a member of a non-compound field and a malformed element', () => {
    expect(() => decodeFieldBitmap(type, ['0x2000000000000000000'])).toThrow(
      /bit 73 is beyond the 73 fields/
    );
    expect(() => decodeFieldBitmap(type, ['1-0x1'])).toThrow(/is not a compound field/);
    expect(() => decodeFieldBitmap(type, ['2-0x10'])).toThrow(
      /bit 4 is beyond the 3 fields of ShipTo/
    );
    expect(() => decodeFieldBitmap(type, ['12'])).toThrow(ChangeEventError);
  });

  it('encodes what it decodes (the encoder is what test publishers use)', () => {
    const names = ['Name', 'F40__c', 'ShipTo.City'];
    expect(encodeFieldBitmap(type, names)).toEqual(['0x10000000002', '2-0x2']);
    expect(decodeFieldBitmap(type, encodeFieldBitmap(type, names))).toEqual([
      'Name',
      'F40__c',
      'ShipTo.City'
    ]);
    expect(encodeFieldBitmap(type, [])).toEqual([]);
  });
});

describe('readChangeEvent', () => {
  it('decodes the header and keeps non-null values, compound members flattened', () => {
    const payload = type.fromBuffer(
      type.toBuffer({
        ChangeEventHeader: header('UPDATE', {
          changedFields: ['0x2', '2-0x2'],
          nulledFields: ['0x8']
        }),
        Name: 'Widget',
        ShipTo: { Street: null, City: 'Lyon', Country: null },
        ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`F${i + 3}__c`, null]))
      })
    ) as Record<string, unknown>;
    const change = readChangeEvent(payload, type);
    expect(change.header.changeType).toBe('UPDATE');
    expect(change.header.changedFields).toEqual(['Name', 'ShipTo.City']);
    expect(change.header.nulledFields).toEqual(['F3__c']);
    expect(change.header.commitTimestamp).toBe(1767261600000);
    expect(change.values).toEqual({ Name: 'Widget', 'ShipTo.City': 'Lyon' });
    expect(change.isGap).toBe(false);
    expect(change.isOverflow).toBe(false);
  });

  it('tells gap events from overflow events', () => {
    const empty = Object.fromEntries(
      ['Name', 'ShipTo', ...Array.from({ length: 70 }, (_, i) => `F${i + 3}__c`)].map((n) => [
        n,
        null
      ])
    );
    const gap = readChangeEvent({ ChangeEventHeader: header('GAP_UPDATE'), ...empty }, type);
    expect([gap.isGap, gap.isOverflow, gap.header.recordIds]).toEqual([
      true,
      false,
      ['a00000000000001AAA']
    ]);
    const overflow = readChangeEvent(
      { ChangeEventHeader: header('GAP_OVERFLOW', { recordIds: [] }), ...empty },
      type
    );
    expect([overflow.isGap, overflow.isOverflow]).toEqual([false, true]);
    expect(() =>
      readChangeEvent({ ChangeEventHeader: header('SNAPSHOT'), ...empty }, type)
    ).toThrow(/Unknown changeType/);
  });
});
