/**
 * Cross-half drift checks of UI Update Based on Data Changes. Names that cross the boundary:
 *
 * | name                                  | remote half                                    | Salesforce half                                                        |
 * | ------------------------------------- | ---------------------------------------------- | ---------------------------------------------------------------------- |
 * | event API name / topic                | `src/ui-update/contract.ts` `DEFAULT_TOPIC`    | `objects/Shipment_Status_Changed__e`, LWC `SHIPMENT_CHANNEL`           |
 * | event fields (8)                      | `EVENT_FIELDS`, `shipmentEventPayload()`       | `objects/Shipment_Status_Changed__e/fields/*.field-meta.xml`, LWC reads |
 * | Avro types of the fields              | the contract's `avroSchema` (what GetSchema serves) | each field's `<type>` (Text → string, DateTime → long)            |
 * | shipment statuses                     | `SHIPMENT_STATUSES`                            | contract `statusValues`, LWC `STATUS_CLASSES`                           |
 * | Account change channel                | —                                              | `platformEventChannelMembers/ChangeEvents_AccountChangeEvent`, LWC `ACCOUNT_CHANNEL` |
 * | publish limits                        | `MAX_EVENTS_PER_PUBLISH`, `RECOMMENDED_PUBLISH_BYTES`, `MAX_EVENT_BYTES` | contract `publishLimits`                    |
 *
 * The contract static resource (`UiUpdateContract.json`) sits between the two; every check reads real files and is
 * also run on a copy changed on one side, expecting the finding at that file and line.
 */
import {
  MAX_EVENT_BYTES,
  MAX_EVENTS_PER_PUBLISH,
  RECOMMENDED_PUBLISH_BYTES
} from '../../src/salesforce/pubsub';
import {
  DEFAULT_TOPIC,
  EVENT_API_NAME,
  EVENT_FIELDS,
  SHIPMENT_STATUSES,
  shipmentEventPayload
} from '../../src/ui-update/contract';
import {
  escapeRegExp,
  formatFindings,
  lineOf,
  readSource,
  type DriftFinding,
  type SourceText
} from '../drift/findings';
import { jsMemberPaths } from '../drift/lwc';
import { jsonLocator } from '../drift/locate';
import { readCustomObject, type CustomObjectMetadata } from '../drift/object-metadata';

const BASE = 'force-app/main/ui-update';
const CONTRACT_FILE = `${BASE}/staticresources/UiUpdateContract.json`;
const EVENT_FOLDER = `${BASE}/objects/Shipment_Status_Changed__e`;
const LWC_FILE = `${BASE}/lwc/shipmentTracker/shipmentTracker.js`;
const MEMBER_FILE = `${BASE}/platformEventChannelMembers/ChangeEvents_AccountChangeEvent.platformEventChannelMember-meta.xml`;
const REMOTE_FILE = 'remote-system/src/ui-update/contract.ts';

interface Contract {
  event: { apiName: string; topic: string; fields: Record<string, string>; statusValues: string[] };
  avroSchema: { name: string; fields: { name: string; type: unknown }[] };
  changeEvents: {
    channel: string;
    eventChannel: string;
    selectedEntity: string;
    channelMember: string;
  };
  publishLimits: { maxEventsPerRequest: number; maxBytesPerRequest: number; maxEventBytes: number };
}

const parse = (source: SourceText): Contract => JSON.parse(source.text) as Contract;
const AVRO_OF_TYPE: Record<string, string> = { Text: 'string', DateTime: 'long' };

/** Event fields (XML) against the contract's field map and Avro schema, both directions, types included. */
function checkEventObject(
  object: CustomObjectMetadata,
  contractSource: SourceText
): DriftFinding[] {
  const contract = parse(contractSource);
  const at = jsonLocator(contractSource);
  const findings: DriftFinding[] = [];
  if (contract.event.apiName !== object.name || contract.avroSchema.name !== object.name) {
    findings.push({
      at: at(['event', 'apiName']),
      message: `event ${contract.event.apiName} / Avro record ${contract.avroSchema.name} is not the object ${object.name}`,
      other: { file: object.file, line: 1 }
    });
  }
  const avro = new Map(contract.avroSchema.fields.map((f, i) => [f.name, { ...f, index: i }]));
  const mapped = new Set(Object.values(contract.event.fields));
  for (const field of object.fields) {
    const where = { file: field.file, line: field.fullNameLine };
    if (!mapped.has(field.fullName)) {
      findings.push({
        at: where,
        message: `${field.fullName} is not in the contract's event.fields`,
        other: at(['event', 'fields'])
      });
    }
    const entry = avro.get(field.fullName);
    if (!entry) {
      findings.push({
        at: where,
        message: `${field.fullName} is not in the contract's avroSchema`,
        other: at(['avroSchema', 'fields'])
      });
      continue;
    }
    const expected = AVRO_OF_TYPE[field.type.value ?? ''];
    const actual = JSON.stringify(entry.type);
    if (!expected || actual !== JSON.stringify(['null', expected])) {
      findings.push({
        at: at(['avroSchema', 'fields', entry.index, 'type']),
        message: `${field.fullName} is ${actual} in the Avro schema but ${field.type.value} in its XML (expected ["null","${expected ?? '?'}"])`,
        other: { file: field.file, line: field.type.line }
      });
    }
  }
  const xmlNames = new Set(object.fields.map((f) => f.fullName));
  for (const [key, name] of Object.entries(contract.event.fields)) {
    if (!xmlNames.has(name)) {
      findings.push({
        at: at(['event', 'fields', key]),
        message: `event.fields.${key} = ${name} has no field XML`,
        other: EVENT_FOLDER
      });
    }
  }
  contract.avroSchema.fields.forEach((f, i) => {
    if (f.name.endsWith('__c') && !xmlNames.has(f.name)) {
      findings.push({
        at: at(['avroSchema', 'fields', i, 'name']),
        message: `Avro field ${f.name} has no field XML`,
        other: EVENT_FOLDER
      });
    }
  });
  return findings;
}

/** The ERP's names and limits (`contract.ts`, the shared publisher) against the contract. */
function checkRemote(remote: SourceText, contractSource: SourceText): DriftFinding[] {
  const contract = parse(contractSource);
  const at = jsonLocator(contractSource);
  const findings: DriftFinding[] = [];
  const line = (pattern: RegExp) => ({
    file: remote.file,
    line: lineOf(remote.text, pattern) ?? 1
  });
  // The remote values are read from the source text, so a copy changed in a test is checked as written.
  const fieldEntries = [...remote.text.matchAll(/^\s+(\w+): '(\w+__c)'/gm)].map(
    (m) => [m[1]!, m[2]!] as const
  );
  const remoteFields = Object.fromEntries(fieldEntries);
  for (const [key, name] of Object.entries(contract.event.fields)) {
    if (remoteFields[key] !== name) {
      findings.push({
        at: line(new RegExp(`^\\s+${escapeRegExp(key)}:`, 'm')),
        message: `EVENT_FIELDS.${key} is ${remoteFields[key] ?? 'missing'}, the contract says ${name}`,
        other: at(['event', 'fields', key])
      });
    }
  }
  for (const [key, name] of fieldEntries) {
    if (contract.event.fields[key] === undefined) {
      findings.push({
        at: line(new RegExp(`^\\s+${escapeRegExp(key)}: '${escapeRegExp(name)}'`, 'm')),
        message: `EVENT_FIELDS.${key} (${name}) is not in the contract`,
        other: at(['event', 'fields'])
      });
    }
  }
  const apiName = /EVENT_API_NAME = '(\w+)'/.exec(remote.text)?.[1];
  if (`/event/${apiName}` !== contract.event.topic) {
    findings.push({
      at: line(/EVENT_API_NAME =/),
      message: `topic /event/${apiName} is not the contract's ${contract.event.topic}`,
      other: at(['event', 'topic'])
    });
  }
  const statusBlock = /SHIPMENT_STATUSES = \[([^\]]*)\]/.exec(remote.text)?.[1] ?? '';
  const statuses = [...statusBlock.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  if (JSON.stringify(statuses) !== JSON.stringify(contract.event.statusValues)) {
    findings.push({
      at: line(/SHIPMENT_STATUSES = \[/),
      message: `statuses ${JSON.stringify(statuses)} differ from the contract's`,
      other: at(['event', 'statusValues'])
    });
  }
  return findings;
}

/** The names the LWC reads from messages and the channels it subscribes to, against the contract. */
function checkLwc(lwc: SourceText, contractSource: SourceText): DriftFinding[] {
  const contract = parse(contractSource);
  const at = jsonLocator(contractSource);
  const findings: DriftFinding[] = [];
  const known = new Set([...Object.values(contract.event.fields), 'CreatedDate']);
  for (const path of jsMemberPaths(lwc)) {
    const last = path.segments[path.segments.length - 1] ?? '';
    if (path.segments.includes('payload') && /__c$|^CreatedDate$/.test(last) && !known.has(last)) {
      findings.push({
        at: { file: lwc.file, line: path.line },
        message: `reads payload.${last}, which the event does not have`,
        other: at(['event', 'fields'])
      });
    }
  }
  const constant = (name: string) => {
    const match = new RegExp(`const ${name} = '([^']*)'`).exec(lwc.text);
    return { value: match?.[1], line: lineOf(lwc.text, new RegExp(`const ${name} =`)) ?? 1 };
  };
  const shipments = constant('SHIPMENT_CHANNEL');
  if (shipments.value !== contract.event.topic) {
    findings.push({
      at: { file: lwc.file, line: shipments.line },
      message: `SHIPMENT_CHANNEL ${shipments.value} is not ${contract.event.topic}`,
      other: at(['event', 'topic'])
    });
  }
  const account = constant('ACCOUNT_CHANNEL');
  if (account.value !== contract.changeEvents.channel) {
    findings.push({
      at: { file: lwc.file, line: account.line },
      message: `ACCOUNT_CHANNEL ${account.value} is not ${contract.changeEvents.channel}`,
      other: at(['changeEvents', 'channel'])
    });
  }
  const statusBlock = /STATUS_CLASSES = \{([^}]*)\}/.exec(lwc.text)?.[1] ?? '';
  for (const match of statusBlock.matchAll(/^\s*'?([A-Za-z ]+?)'?:/gm)) {
    if (!contract.event.statusValues.includes(match[1]!)) {
      findings.push({
        at: {
          file: lwc.file,
          line: lineOf(lwc.text, new RegExp(`${escapeRegExp(match[1]!)}'?:`)) ?? 1
        },
        message: `STATUS_CLASSES has ${match[1]}, not a shipment status`,
        other: at(['event', 'statusValues'])
      });
    }
  }
  return findings;
}

/** The channel member that enables Account CDC against the channel the contract (and the LWC) names. */
function checkChannelMember(member: SourceText, contractSource: SourceText): DriftFinding[] {
  const contract = parse(contractSource);
  const at = jsonLocator(contractSource);
  const findings: DriftFinding[] = [];
  const value = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(member.text)?.[1];
  const line = (tag: string) => ({
    file: member.file,
    line: lineOf(member.text, new RegExp(`<${tag}>`)) ?? 1
  });
  const eventChannel = value('eventChannel');
  const entity = value('selectedEntity');
  if (eventChannel !== contract.changeEvents.eventChannel) {
    findings.push({
      at: line('eventChannel'),
      message: `eventChannel ${eventChannel} is not ${contract.changeEvents.eventChannel}`,
      other: at(['changeEvents', 'eventChannel'])
    });
  }
  if (
    entity !== contract.changeEvents.selectedEntity ||
    `/data/${entity}` !== contract.changeEvents.channel
  ) {
    findings.push({
      at: line('selectedEntity'),
      message: `selectedEntity ${entity} does not give the channel ${contract.changeEvents.channel}`,
      other: at(['changeEvents', 'channel'])
    });
  }
  const fileName = member.file
    .split('/')
    .pop()!
    .replace('.platformEventChannelMember-meta.xml', '');
  if (
    fileName !== `${eventChannel}_${entity}` ||
    fileName !== contract.changeEvents.channelMember
  ) {
    findings.push({
      at: { file: member.file, line: 1 },
      message: `member ${fileName} should be named ${eventChannel}_${entity}`,
      other: at(['changeEvents', 'channelMember'])
    });
  }
  return findings;
}

const contractSource = () => readSource(CONTRACT_FILE);
const mutate = (source: SourceText, from: string | RegExp, to: string): SourceText => {
  const text = source.text.replace(from, to);
  if (text === source.text) throw new Error(`mutation of ${source.file} changed nothing`);
  return { file: source.file, text };
};

describe('ui-update drift: event fields against the contract', () => {
  it('agrees on the real files', () => {
    expect(
      formatFindings(checkEventObject(readCustomObject(EVENT_FOLDER), contractSource()))
    ).toEqual([]);
  });

  it('finds a field renamed in its XML only, at the XML line', () => {
    const file = `${EVENT_FOLDER}/fields/Carrier__c.field-meta.xml`;
    const renamed = mutate(
      readSource(file),
      '<fullName>Carrier__c</fullName>',
      '<fullName>Carrier_Name__c</fullName>'
    );
    const findings = formatFindings(
      checkEventObject(readCustomObject(EVENT_FOLDER, { [file]: renamed.text }), contractSource())
    );
    expect(findings).toContain(
      `${file}:3 Carrier_Name__c is not in the contract's event.fields (other side: ${CONTRACT_FILE}:6)`
    );
    expect(
      findings.some(
        (f) =>
          f.startsWith(`${CONTRACT_FILE}:`) && f.includes('carrier = Carrier__c has no field XML')
      )
    ).toBe(true);
  });

  it('finds a type changed on one side', () => {
    const file = `${EVENT_FOLDER}/fields/Status_Changed_At__c.field-meta.xml`;
    const retyped = mutate(readSource(file), '<type>DateTime</type>', '<type>Text</type>');
    const findings = formatFindings(
      checkEventObject(readCustomObject(EVENT_FOLDER, { [file]: retyped.text }), contractSource())
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(
      new RegExp(
        `^${escapeRegExp(CONTRACT_FILE)}:\\d+ Status_Changed_At__c is \\["null","long"\\] in the Avro schema but Text in its XML`
      )
    );
  });
});

describe('ui-update drift: the ERP against the contract', () => {
  it('agrees on the real files, and the payload builder writes exactly the Avro fields', () => {
    expect(formatFindings(checkRemote(readSource(REMOTE_FILE), contractSource()))).toEqual([]);
    const contract = parse(contractSource());
    expect(DEFAULT_TOPIC).toBe(contract.event.topic);
    expect(EVENT_API_NAME).toBe(contract.event.apiName);
    expect(EVENT_FIELDS).toEqual(contract.event.fields);
    expect([...SHIPMENT_STATUSES]).toEqual(contract.event.statusValues);
    const payload = shipmentEventPayload({
      eventId: 'e',
      shipmentNumber: 'SHP-1',
      customerNumber: 'C-000001',
      status: 'In Transit',
      previousStatus: 'Label Created',
      carrier: 'DHL',
      destinationCity: 'Lyon',
      changedAt: 1,
      correlationId: 'c'
    });
    expect(Object.keys(payload).sort()).toEqual(
      contract.avroSchema.fields.map((f) => f.name).sort()
    );
    expect(contract.publishLimits).toEqual({
      maxEventsPerRequest: MAX_EVENTS_PER_PUBLISH,
      maxBytesPerRequest: RECOMMENDED_PUBLISH_BYTES,
      maxEventBytes: MAX_EVENT_BYTES
    });
  });

  it('finds a field renamed in the ERP only, at its line in contract.ts', () => {
    const source = readSource(REMOTE_FILE);
    const line = lineOf(source.text, /^\s+carrier: 'Carrier__c'/m)!;
    const findings = formatFindings(
      checkRemote(
        mutate(source, "carrier: 'Carrier__c'", "carrier: 'Carrier_Name__c'"),
        contractSource()
      )
    );
    expect(findings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(REMOTE_FILE)}:${line} EVENT_FIELDS.carrier is Carrier_Name__c, the contract says Carrier__c`
        )
      )
    ]);
  });

  it('finds a status renamed in the ERP only', () => {
    const findings = formatFindings(
      checkRemote(
        mutate(readSource(REMOTE_FILE), "'Out for Delivery',", "'Out For Delivery',"),
        contractSource()
      )
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(
      /contract\.ts:\d+ statuses .*Out For Delivery.* differ from the contract's/
    );
  });
});

describe('ui-update drift: the LWC against the contract', () => {
  it('agrees on the real files', () => {
    expect(formatFindings(checkLwc(readSource(LWC_FILE), contractSource()))).toEqual([]);
  });

  it('finds a field the LWC reads that the event does not have, at the LWC line', () => {
    const source = readSource(LWC_FILE);
    const line = lineOf(source.text, /payload\.Destination_City__c/)!;
    const findings = formatFindings(
      checkLwc(
        mutate(source, /payload\.Destination_City__c/, 'payload.Destination__c'),
        contractSource()
      )
    );
    expect(findings).toEqual([
      `${LWC_FILE}:${line} reads payload.Destination__c, which the event does not have (other side: ${CONTRACT_FILE}:6)`
    ]);
  });

  it('finds a channel renamed in the LWC only', () => {
    const findings = formatFindings(
      checkLwc(
        mutate(readSource(LWC_FILE), "'/data/AccountChangeEvent'", "'/data/ChangeEvents'"),
        contractSource()
      )
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toContain(
      'ACCOUNT_CHANNEL /data/ChangeEvents is not /data/AccountChangeEvent'
    );
  });
});

describe('ui-update drift: the Account change channel member', () => {
  it('agrees on the real file', () => {
    expect(formatFindings(checkChannelMember(readSource(MEMBER_FILE), contractSource()))).toEqual(
      []
    );
  });

  it('finds an entity changed in the member only', () => {
    const findings = formatFindings(
      checkChannelMember(
        mutate(
          readSource(MEMBER_FILE),
          'AccountChangeEvent</selectedEntity>',
          'ContactChangeEvent</selectedEntity>'
        ),
        contractSource()
      )
    );
    expect(findings).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${escapeRegExp(MEMBER_FILE)}:4 selectedEntity ContactChangeEvent`)
      )
    );
  });
});
