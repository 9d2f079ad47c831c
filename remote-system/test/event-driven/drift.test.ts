import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import {
  CHANNEL_NAME,
  CONSUMER_FIELDS,
  DEFAULT_TOPIC,
  RECORD_FIELDS,
  REST_TO_EVENT_FIELD
} from '../../src/event-driven/contract';
import { decodeFieldBitmap } from '../../src/salesforce/pubsub';
import {
  formatFindings,
  lineAt,
  readSource,
  REPO_ROOT,
  type DriftFinding,
  type SourceText
} from '../drift/findings';
import type { Contract } from './support';

/**
 * Cross-half drift for Event-Driven Architecture. Every name that crosses the boundary, and where each side keeps it:
 *
 * | name                                   | remote half (TypeScript)                     | Salesforce half                                                 |
 * | -------------------------------------- | -------------------------------------------- | --------------------------------------------------------------- |
 * | channel `ERP_Customer_Changes__chn`    | `CHANNEL_NAME`, `DEFAULT_TOPIC` (contract.ts) | platformEventChannels/…chn.platformEventChannel-meta.xml       |
 * | channel member, `AccountChangeEvent`   | the contract's Avro schema                   | platformEventChannelMembers/…AccountChangeEvent…-meta.xml       |
 * | enriched fields, filter expression     | the consumers' fields (`CONSUMER_FIELDS`)    | the member's `enrichedFields`, `filterExpression`               |
 * | change event fields each consumer reads | `CONSUMER_FIELDS`                            | the Avro schema in the contract; Account custom fields (core)   |
 * | REST re-read fields and their spelling | `RECORD_FIELDS`, `REST_TO_EVENT_FIELD`       | the contract's `recordRead`                                     |
 * | marker object and fields               | —                                            | objects/Customer_Change_Marker__c, AccountChangeMarker.cls      |
 * | example bitmaps and their decoding     | `decodeFieldBitmap` (shared pubsub module)   | the contract's `examples.*.decoded` (read by the Apex tests)    |
 */

const BASE = 'force-app/main/event-driven';
const CONTRACT_FILE = `${BASE}/staticresources/EventDrivenContract.json`;
const CHANNEL_FILE = `${BASE}/platformEventChannels/${CHANNEL_NAME}.platformEventChannel-meta.xml`;
const TS_CONTRACT_FILE = 'remote-system/src/event-driven/contract.ts';

interface Sides {
  readonly contract: SourceText;
  readonly channel: SourceText;
  readonly member: SourceText;
  readonly apex: SourceText;
  readonly markerFields: readonly string[];
  readonly accountCustomFields: readonly string[];
  readonly ts: {
    readonly channelName: string;
    readonly topic: string;
    readonly consumerFields: Readonly<Record<string, readonly string[]>>;
    readonly recordFields: readonly string[];
    readonly restToEvent: Readonly<Record<string, string>>;
  };
}

function lineOf(source: SourceText, needle: string): number {
  const at = source.text.indexOf(needle);
  return at < 0 ? 1 : lineAt(source.text, at);
}

function xmlValues(source: SourceText, element: string): string[] {
  return [...source.text.matchAll(new RegExp(`<${element}>([^<]*)</${element}>`, 'g'))].map((m) =>
    m[1]!
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
  );
}

/** The event field names a schema offers: top-level names and `Compound.Member` names. */
function schemaNames(schema: Contract['avroSchema']): Set<string> {
  const type = avro.Type.forSchema(schema as avro.Schema) as avro.types.RecordType;
  const names = new Set<string>();
  for (const field of type.fields) {
    names.add(field.name);
    const nested = ((field.type as { types?: avro.Type[] }).types ?? []).find(
      (t): t is avro.types.RecordType => t instanceof avro.types.RecordType
    );
    for (const member of nested?.fields ?? []) names.add(`${field.name}.${member.name}`);
  }
  return names;
}

function check(sides: Sides): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const contract = JSON.parse(sides.contract.text) as Contract;
  const at = (source: SourceText, needle: string) => ({
    file: source.file,
    line: lineOf(source, needle)
  });
  const tsAt = { file: TS_CONTRACT_FILE, line: 1 };

  // Channel.
  if (contract.channel.fullName !== sides.ts.channelName) {
    findings.push({
      at: tsAt,
      message: `CHANNEL_NAME ${sides.ts.channelName} is not the contract's channel ${contract.channel.fullName}`,
      other: at(sides.contract, contract.channel.fullName)
    });
  }
  if (
    contract.channel.topic !== sides.ts.topic ||
    contract.channel.topic !== `/data/${contract.channel.fullName}`
  ) {
    findings.push({
      at: at(sides.contract, '"topic"'),
      message: `topic ${contract.channel.topic} is not /data/${contract.channel.fullName} (DEFAULT_TOPIC ${sides.ts.topic})`,
      other: tsAt
    });
  }
  const channelType = xmlValues(sides.channel, 'channelType')[0];
  if (channelType !== contract.channel.channelType) {
    findings.push({
      at: at(sides.channel, '<channelType>'),
      message: `channelType ${channelType ?? '(none)'} is not ${contract.channel.channelType}`,
      other: at(sides.contract, '"channelType"')
    });
  }

  // Channel member.
  const eventChannel = xmlValues(sides.member, 'eventChannel')[0];
  if (eventChannel !== contract.channel.fullName) {
    findings.push({
      at: at(sides.member, '<eventChannel>'),
      message: `eventChannel ${eventChannel ?? '(none)'} is not the channel ${contract.channel.fullName}`,
      other: at(sides.contract, '"fullName"')
    });
  }
  const selected = xmlValues(sides.member, 'selectedEntity')[0];
  if (selected !== contract.member.selectedEntity || contract.avroSchema.name !== selected) {
    findings.push({
      at: at(sides.member, '<selectedEntity>'),
      message: `selectedEntity ${selected ?? '(none)'} is not ${contract.member.selectedEntity} (Avro schema ${contract.avroSchema.name})`,
      other: at(sides.contract, '"selectedEntity"')
    });
  }
  const enriched = xmlValues(sides.member, 'name');
  const wanted = contract.member.enrichedFields;
  for (const name of wanted.filter((n) => !enriched.includes(n))) {
    findings.push({
      at: at(sides.member, '<enrichedFields>'),
      message: `enriched field ${name} of the contract is missing from the channel member`,
      other: at(sides.contract, `"${name}"`)
    });
  }
  for (const name of enriched.filter((n) => !wanted.includes(n))) {
    findings.push({
      at: at(sides.member, `<name>${name}</name>`),
      message: `enriched field ${name} is not in the contract's member.enrichedFields`,
      other: at(sides.contract, '"enrichedFields"')
    });
  }
  const filter = xmlValues(sides.member, 'filterExpression')[0];
  if (filter !== contract.member.filterExpression) {
    findings.push({
      at: at(sides.member, '<filterExpression>'),
      message: `filterExpression "${filter ?? ''}" is not the contract's "${contract.member.filterExpression}"`,
      other: at(sides.contract, '"filterExpression"')
    });
  }

  // Fields: the schema offers every field a consumer reads, every enriched field; custom ones exist on Account.
  const offered = schemaNames(contract.avroSchema);
  for (const [consumer, fields] of Object.entries(sides.ts.consumerFields)) {
    const inContract = contract.consumers[consumer]?.fields ?? [];
    if (JSON.stringify(inContract) !== JSON.stringify(fields)) {
      findings.push({
        at: tsAt,
        message: `CONSUMER_FIELDS['${consumer}'] ${JSON.stringify(fields)} differs from the contract's ${JSON.stringify(inContract)}`,
        other: at(sides.contract, `"${consumer}"`)
      });
    }
    for (const field of fields.filter((f) => !offered.has(f))) {
      findings.push({
        at: tsAt,
        message: `${consumer} reads ${field}, which the AccountChangeEvent schema does not have`,
        other: at(sides.contract, '"avroSchema"')
      });
    }
  }
  for (const field of [...wanted, ...offered].filter((f) => f.endsWith('__c'))) {
    if (!sides.accountCustomFields.includes(field)) {
      findings.push({
        at: at(sides.contract, `"${field}"`),
        message: `${field} is not an Account custom field of core/ or event-driven/`,
        other: 'force-app/main/{core,event-driven}/objects/Account/fields'
      });
    }
  }
  for (const name of wanted.filter((n) => !offered.has(n))) {
    findings.push({
      at: at(sides.contract, `"${name}"`),
      message: `enriched field ${name} is not in the AccountChangeEvent schema`
    });
  }

  // REST re-read.
  if (JSON.stringify(contract.recordRead.fields) !== JSON.stringify(sides.ts.recordFields)) {
    findings.push({
      at: tsAt,
      message: `RECORD_FIELDS ${JSON.stringify(sides.ts.recordFields)} differs from the contract's recordRead.fields`,
      other: at(sides.contract, '"recordRead"')
    });
  }
  if (
    JSON.stringify(contract.recordRead.compoundMembers) !== JSON.stringify(sides.ts.restToEvent)
  ) {
    findings.push({
      at: tsAt,
      message: "REST_TO_EVENT_FIELD differs from the contract's recordRead.compoundMembers",
      other: at(sides.contract, '"compoundMembers"')
    });
  }
  for (const [rest, event] of Object.entries(contract.recordRead.compoundMembers)) {
    if (!offered.has(event)) {
      findings.push({
        at: at(sides.contract, `"${rest}"`),
        message: `${rest} maps to ${event}, which the AccountChangeEvent schema does not have`
      });
    }
  }

  // Marker object and the Apex that writes it.
  for (const field of Object.values(contract.marker.fields)) {
    if (!sides.markerFields.includes(field)) {
      findings.push({
        at: at(sides.contract, `"${field}"`),
        message: `${contract.marker.object}.${field} has no field file`,
        other: `${BASE}/objects/${contract.marker.object}/fields`
      });
    }
    if (field !== 'Account__c' && !sides.apex.text.includes(field)) {
      findings.push({
        at: { file: sides.apex.file, line: 1 },
        message: `AccountChangeMarker never writes ${field}`,
        other: at(sides.contract, `"${field}"`)
      });
    }
  }

  // Example bitmaps decode to the names both halves expect.
  const type = avro.Type.forSchema(contract.avroSchema as avro.Schema);
  for (const [name, example] of Object.entries(contract.examples)) {
    if (!example.decoded) continue;
    const header = example.payload.ChangeEventHeader as Record<string, string[]>;
    for (const key of ['changedFields', 'nulledFields'] as const) {
      const decoded = decodeFieldBitmap(type, header[key] ?? []);
      if (JSON.stringify(decoded) !== JSON.stringify(example.decoded[key])) {
        findings.push({
          at: at(sides.contract, `"${name}"`),
          message: `examples.${name}.${key} decodes to ${JSON.stringify(decoded)}, not ${JSON.stringify(example.decoded[key])}`
        });
      }
    }
  }
  return findings;
}

function fieldFiles(dir: string): string[] {
  const full = path.join(REPO_ROOT, dir);
  return fs.existsSync(full)
    ? fs.readdirSync(full).map((f) => f.replace('.field-meta.xml', ''))
    : [];
}

function realSides(): Sides {
  return {
    contract: readSource(CONTRACT_FILE),
    channel: readSource(CHANNEL_FILE),
    member: readSource(
      `${BASE}/platformEventChannelMembers/ERP_Customer_Changes_chn_AccountChangeEvent.platformEventChannelMember-meta.xml`
    ),
    apex: readSource(`${BASE}/classes/AccountChangeMarker.cls`),
    markerFields: fieldFiles(`${BASE}/objects/Customer_Change_Marker__c/fields`),
    accountCustomFields: [
      ...fieldFiles('force-app/main/core/objects/Account/fields'),
      ...fieldFiles(`${BASE}/objects/Account/fields`)
    ],
    ts: {
      channelName: CHANNEL_NAME,
      topic: DEFAULT_TOPIC,
      consumerFields: CONSUMER_FIELDS,
      recordFields: RECORD_FIELDS,
      restToEvent: REST_TO_EVENT_FIELD
    }
  };
}

describe('event-driven drift between the halves', () => {
  it('finds nothing on the real files', () => {
    expect(formatFindings(check(realSides()))).toEqual([]);
  });

  it('finds an enriched field renamed in the channel member only', () => {
    const sides = realSides();
    const member = {
      ...sides.member,
      text: sides.member.text.replace('<name>Industry</name>', '<name>Industry__c</name>')
    };
    const findings = formatFindings(check({ ...sides, member }));
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /platformEventChannelMember-meta.xml:\d+ enriched field Industry__c is not in the contract/
        ),
        expect.stringMatching(
          /enriched field Industry of the contract is missing from the channel member/
        )
      ])
    );
  });

  it('finds a consumer field renamed in the TypeScript only', () => {
    const sides = realSides();
    const findings = formatFindings(
      check({
        ...sides,
        ts: {
          ...sides.ts,
          consumerFields: {
            ...sides.ts.consumerFields,
            'marketing-segments': ['Industry', 'Revenue']
          }
        }
      })
    );
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /contract.ts:1 marketing-segments reads Revenue, which the AccountChangeEvent schema does not have/
        )
      ])
    );
  });

  it('finds a channel renamed on one side, a filter changed, a marker field the Apex does not write', () => {
    const sides = realSides();
    const findings = formatFindings(
      check({
        ...sides,
        ts: { ...sides.ts, channelName: 'ERP_Changes__chn' },
        member: {
          ...sides.member,
          text: sides.member.text.replace('LIKE &apos;C-%&apos;', 'LIKE &apos;D-%&apos;')
        },
        apex: { ...sides.apex, text: sides.apex.text.replaceAll('Change_Count__c', 'Count__c') }
      })
    );
    expect(findings.join('\n')).toMatch(
      /CHANNEL_NAME ERP_Changes__chn is not the contract's channel/
    );
    expect(findings.join('\n')).toMatch(/filterExpression "ERP_Customer_Number__c LIKE 'D-%'"/);
    expect(findings.join('\n')).toMatch(/AccountChangeMarker never writes Change_Count__c/);
  });

  it('finds an example whose bitmap no longer decodes to the names the Apex tests read', () => {
    const sides = realSides();
    const contract = {
      ...sides.contract,
      text: sides.contract.text.replace('"0x2080"', '"0x2040"')
    };
    expect(formatFindings(check({ ...sides, contract })).join('\n')).toMatch(
      /examples.multiRecord.changedFields decodes to \["Website","LastModifiedDate"\]/
    );
  });
});

/**
 * The Apex trigger fires only for objects selected on the standard `ChangeEvents` channel (Change Data Capture
 * Developer Guide, "Change Event Trigger Considerations"), so this folder selects Account there too. UI Update ships
 * the same component for its `/data/AccountChangeEvent` subscription: deployed together the two files are one
 * component and the CLI sends one of them, so they must not differ, and neither may filter or enrich the standard
 * stream (every standard-channel subscriber would be affected).
 */
const STANDARD_MEMBER = 'ChangeEvents_AccountChangeEvent.platformEventChannelMember-meta.xml';
const OTHER_STANDARD_MEMBER = `force-app/main/ui-update/platformEventChannelMembers/${STANDARD_MEMBER}`;

function standardMemberFindings(own: SourceText, other: SourceText | undefined): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const element = (name: string): string | undefined =>
    new RegExp(`<${name}>([^<]*)</${name}>`).exec(own.text)?.[1]?.trim();
  if (
    element('eventChannel') !== 'ChangeEvents' ||
    element('selectedEntity') !== 'AccountChangeEvent'
  ) {
    findings.push({
      at: { file: own.file, line: lineOf(own, '<eventChannel>') },
      message: `the trigger's selection is ${element('eventChannel')}/${element('selectedEntity')}, not ChangeEvents/AccountChangeEvent`,
      other: 'force-app/main/event-driven/triggers/AccountChangeEventTrigger.trigger'
    });
  }
  for (const name of ['filterExpression', 'enrichedFields']) {
    if (own.text.includes(`<${name}>`)) {
      findings.push({
        at: { file: own.file, line: lineOf(own, `<${name}>`) },
        message: `the standard-channel member has ${name}: it would change the stream of every standard-channel subscriber`
      });
    }
  }
  if (other && other.text !== own.text) {
    findings.push({
      at: { file: own.file, line: 1 },
      message:
        'the two copies of ChangeEvents_AccountChangeEvent differ: a deploy of both sends only one',
      other: { file: other.file, line: 1 }
    });
  }
  return findings;
}

describe('event-driven standard-channel selection for the Apex trigger', () => {
  const own = readSource(`${BASE}/platformEventChannelMembers/${STANDARD_MEMBER}`);
  const other = fs.existsSync(path.join(REPO_ROOT, OTHER_STANDARD_MEMBER))
    ? readSource(OTHER_STANDARD_MEMBER)
    : undefined;

  it('selects Account on ChangeEvents, unfiltered, identical to the UI Update copy', () => {
    expect(formatFindings(standardMemberFindings(own, other))).toEqual([]);
  });

  it('finds a filter added to one copy only', () => {
    const changed = {
      ...own,
      text: own.text.replace(
        '<selectedEntity>',
        '<filterExpression>Industry = &apos;Retail&apos;</filterExpression>\n  <selectedEntity>'
      )
    };
    const findings = formatFindings(
      standardMemberFindings(changed, other ?? { file: OTHER_STANDARD_MEMBER, text: own.text })
    );
    expect(findings).toHaveLength(2);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /ChangeEvents_AccountChangeEvent.*:\d+ the standard-channel member has filterExpression/
        ),
        expect.stringMatching(/the two copies of ChangeEvents_AccountChangeEvent differ/)
      ])
    );
  });

  it('finds a selection moved to another channel', () => {
    const changed = {
      ...own,
      text: own.text.replace('>ChangeEvents<', '>ERP_Customer_Changes__chn<')
    };
    expect(formatFindings(standardMemberFindings(changed, undefined)).join('\n')).toMatch(
      /selection is ERP_Customer_Changes__chn\/AccountChangeEvent/
    );
  });
});
