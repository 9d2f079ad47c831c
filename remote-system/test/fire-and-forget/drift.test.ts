import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_TOPIC,
  EVENT_API_NAME,
  EVENT_FIELDS,
  INVOICED_STATUS,
  WRITE_BACK_FIELDS
} from '../../src/fire-and-forget/contract';
import { readContract } from './support';

/**
 * Cross-half drift: every name that crosses the boundary (event, event fields, Avro schema, write-back fields,
 * status values) is the same in the contract static resource, the Salesforce metadata, the Apex that fills the event
 * and the ERP's TypeScript. A rename on one side fails here.
 */
const FORCE_APP = path.resolve(__dirname, '../../../force-app/main/fire-and-forget');
const fieldFiles = (object: string): string[] =>
  fs
    .readdirSync(path.join(FORCE_APP, 'objects', object, 'fields'))
    .map((file) => file.replace('.field-meta.xml', ''))
    .sort();
const apex = (name: string) =>
  fs.readFileSync(path.join(FORCE_APP, 'classes', `${name}.cls`), 'utf8');

describe('fire-and-forget drift between the halves', () => {
  const contract = readContract();

  it('names the same event and topic everywhere', () => {
    expect(contract.event.apiName).toBe(EVENT_API_NAME);
    expect(contract.event.topic).toBe(DEFAULT_TOPIC);
    expect(contract.avroSchema.name).toBe(EVENT_API_NAME);
    const object = fs.readFileSync(
      path.join(FORCE_APP, 'objects', EVENT_API_NAME, `${EVENT_API_NAME}.object-meta.xml`),
      'utf8'
    );
    expect(object).toContain(
      `<publishBehavior>${contract.event.publishBehavior}</publishBehavior>`
    );
  });

  it('has the same event fields in the contract, the TypeScript, the metadata and the Avro schema', () => {
    expect(contract.event.fields).toEqual(EVENT_FIELDS);
    const names = Object.values(EVENT_FIELDS).sort();
    expect(fieldFiles(EVENT_API_NAME)).toEqual(names);
    const avroCustom = contract.avroSchema.fields
      .map((f) => f.name)
      .filter((n) => n.endsWith('__c'));
    expect(avroCustom.sort()).toEqual(names);
  });

  it('fills every event field in the Apex publisher, and the Flow fills the ones the ERP requires', () => {
    const publisher = apex('ClosedWonEventPublisher');
    for (const name of Object.values(EVENT_FIELDS)) expect(publisher).toContain(`event.${name} =`);
    const flow = fs.readFileSync(
      path.join(FORCE_APP, 'flows', 'Fire_And_Forget_Publish_Closed_Won.flow-meta.xml'),
      'utf8'
    );
    for (const name of [
      EVENT_FIELDS.opportunityId,
      EVENT_FIELDS.erpCustomerNumber,
      EVENT_FIELDS.amount,
      EVENT_FIELDS.currencyIsoCode
    ]) {
      expect(flow).toContain(`<field>${name}</field>`);
    }
  });

  it('writes back fields that exist on Opportunity, with a status value the picklist has', () => {
    expect(contract.writeBack.fields).toEqual(WRITE_BACK_FIELDS);
    const opportunityFields = fieldFiles('Opportunity');
    for (const name of Object.values(WRITE_BACK_FIELDS)) expect(opportunityFields).toContain(name);
    const picklist = fs.readFileSync(
      path.join(FORCE_APP, 'objects', 'Opportunity', 'fields', 'Invoice_Status__c.field-meta.xml'),
      'utf8'
    );
    for (const value of Object.values(contract.writeBack.statusValues)) {
      expect(picklist).toContain(`<fullName>${value}</fullName>`);
    }
    expect(contract.writeBack.statusValues.invoiced).toBe(INVOICED_STATUS);
    expect(apex('ClosedWonSubscriber')).toContain(`'${contract.writeBack.statusValues.sentToErp}'`);
    expect(apex('ClosedWonEventPublisher')).toContain(
      `'${contract.writeBack.statusValues.publishFailed}'`
    );
  });

  it('grants the integration persona edit on every written-back field', () => {
    const permissionSet = fs.readFileSync(
      path.join(FORCE_APP, 'permissionsets', 'Fire_And_Forget_Integration.permissionset-meta.xml'),
      'utf8'
    );
    for (const name of Object.values(WRITE_BACK_FIELDS)) {
      expect(permissionSet).toMatch(
        new RegExp(`<editable>true</editable>\\s*<field>Opportunity\\.${name}</field>`)
      );
    }
  });
});
