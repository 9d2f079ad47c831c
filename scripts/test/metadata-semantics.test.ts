import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkMetadata } from '../verify/metadata';
import { fixture, located } from './support';

jest.setTimeout(120_000);

const defects = fixture('metadata-semantics-defects');
const M = 'force-app/main/default';
const PAGE = `${M}/flexipages/Ticket_Page.flexipage-meta.xml`;
const FIELDS = `${M}/objects/Ticket__c/fields`;

describe('metadata semantics', () => {
  it('reports field types without their required elements and unplaceable FlexiPage components', async () => {
    const result = await checkMetadata(defects);
    expect(located(result, defects)).toEqual([
      `${PAGE}:12 semantics/flexipage-component`, // force:detailPanle
      `${PAGE}:18 semantics/flexipage-component`, // no such bundle
      `${PAGE}:24 semantics/flexipage-component`, // not exposed
      `${PAGE}:30 semantics/flexipage-component`, // exposed for app pages only
      `${PAGE}:36 semantics/flexipage-component`, // exposed for Contact record pages only
      `${FIELDS}/Account__c.field-meta.xml:6 semantics/field-type`, // Lookup without relationshipName
      `${FIELDS}/Code__c.field-meta.xml:5 semantics/field-type`, // Text length 300
      `${FIELDS}/Hours__c.field-meta.xml:5 semantics/field-type`, // Number without precision
      `${FIELDS}/Hours__c.field-meta.xml:5 semantics/field-type`, // … and scale
      `${FIELDS}/Ratio__c.field-meta.xml:5 semantics/field-type`, // scale > precision
      `${FIELDS}/Stage__c.field-meta.xml:5 semantics/field-type`, // Picklist without valueSet
      `${FIELDS}/Subject__c.field-meta.xml:5 semantics/field-type`, // Text without length
      `${FIELDS}/Urgent__c.field-meta.xml:5 semantics/field-type`, // Checkbox without defaultValue
      `${M}/permissionsets/Ticket_Desk.permissionset-meta.xml:4 semantics/text-length` // description of 266
    ]);
    expect(result.findings.map((f) => f.message)).toContain(
      'a Lookup field needs <relationshipName>: the deploy rejects Account__c without it (required: referenceTo, relationshipName)'
    );
  });

  it('says how long a text element may be and how long it is', async () => {
    const result = await checkMetadata(defects);
    expect(result.findings.map((f) => f.message)).toContain(
      'a PermissionSet <description> holds at most 255 characters, this one 266: the deploy rejects it'
    );
  });

  it('passes the clean fixture and the project-shaped valid one (formula fields, standard and namespaced components)', async () => {
    for (const name of ['clean', 'modern-valid']) {
      const result = await checkMetadata(fixture(name));
      expect(result.findings).toEqual([]);
    }
  });

  it('fails when a component a FlexiPage places is removed', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-md-sem-'));
    try {
      fs.cpSync(fixture('modern-valid'), root, { recursive: true });
      fs.rmSync(path.join(root, 'force-app/main/alpha/lwc/orderList'), { recursive: true });
      const result = await checkMetadata(root);
      expect(located(result, root)).toEqual([
        'force-app/main/demo/flexipages/Account_Demo_Page.flexipage-meta.xml:22 semantics/flexipage-component'
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
