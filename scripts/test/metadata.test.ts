import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkMetadata } from '../verify/metadata';
import { relaxRequiredArrays } from '../lib/metadata-schema';
import { elementAt, readXml, toJson } from '../lib/xml';
import type { CheckResult } from '../lib/findings';
import { fixture, located } from './support';

jest.setTimeout(300_000);

const defects = fixture('metadata-defects');
const M = 'force-app/main/default';

describe('metadata', () => {
  let result: CheckResult;
  beforeAll(async () => {
    result = await checkMetadata(defects);
  });

  it('reports every defect of the fixture, each at its file and line', () => {
    expect(located(result, defects)).toEqual([
      `${M}/classes/NoMeta.cls:0 pairs/missing-meta-xml`,
      `${M}/lwc/noMeta:0 pairs/missing-js-meta-xml`,
      `${M}/namedCredentials/ERP.namedCredential-meta.xml:5 schema/unknown-element`,
      `${M}/namedCredentials/ERP.namedCredential-meta.xml:15 refs/missing`,
      `${M}/namedCredentials/ERP.namedCredential-meta.xml:17 schema/enum`,
      `${M}/objects/Order__c/fields/Amount__c.field-meta.xml:7 schema/enum`,
      `${M}/objects/Order__c/fields/Status__c.field-meta.xml:8 xml/InvalidTag`,
      `${M}/objects/Order__c/Order__c.object-meta.xml:11 schema/type`,
      `${M}/permissionsets/Defects.permissionset-meta.xml:4 refs/missing`,
      `${M}/permissionsets/Defects.permissionset-meta.xml:24 refs/missing`,
      `${M}/widgets/Dashboard.widget-meta.xml:0 sdr/TypeInferenceError`
    ]);
    expect(result.ok).toBe(false);
  });

  it('says what is wrong in words a developer can act on', () => {
    const messages = result.findings.map((f) => f.message);
    expect(messages).toContain(
      '<calloutOptions> is not an element of <NamedCredential> in the Metadata API'
    );
    expect(
      messages.find((m) => m.startsWith("<parameterType> value 'ExternalCredential'"))
    ).toContain('Authentication');
    expect(messages.find((m) => m.startsWith("<type> value 'Currancy'"))).toContain('Currency');
    expect(messages).toContain('<description> must be string, not nested elements');
    expect(messages).toContain(
      '<apexClass> names the Apex class NoSuchClass, which this project does not define: the deploy fails'
    );
  });

  it('passes the clean project (External Object, credentials, permission set, custom fields, LWC with targetConfigs)', async () => {
    const clean = await checkMetadata(fixture('clean'));
    expect(clean.findings).toEqual([]);
    expect(clean.ok).toBe(true);
  });

  it('reports a root element that is not the type name', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-md-'));
    try {
      fs.writeFileSync(
        path.join(root, 'sfdx-project.json'),
        '{"packageDirectories":[{"path":"force-app"}]}'
      );
      const dir = path.join(root, 'force-app', 'classes');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'A.cls'), 'public with sharing class A {}\n');
      fs.writeFileSync(
        path.join(dir, 'A.cls-meta.xml'),
        '<?xml version="1.0"?>\n<ApexTrigger xmlns="http://soap.sforce.com/2006/04/metadata">\n  <apiVersion>67.0</apiVersion>\n</ApexTrigger>\n'
      );
      const res = await checkMetadata(root);
      expect(located(res, root)).toEqual([
        'force-app/classes/A.cls-meta.xml:2 schema/root-element'
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails clearly on an unreadable file and on a missing package directory', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-md-'));
    try {
      fs.writeFileSync(
        path.join(root, 'sfdx-project.json'),
        '{"packageDirectories":[{"path":"force-app"},{"path":"missing-dir"}]}'
      );
      const dir = path.join(root, 'force-app', 'classes');
      fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(path.join(root, 'nowhere.xml'), path.join(dir, 'Dangling.cls-meta.xml'));
      const res = await checkMetadata(root);
      expect(res.ok).toBe(false);
      expect(located(res, root)).toEqual(
        expect.arrayContaining([
          'force-app/classes/Dangling.cls-meta.xml:0 xml/unreadable',
          'missing-dir:0 sdr/missing-package-directory'
        ])
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports a package directory below a folder named lwc (SDR would read it as one bundle)', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-md-'));
    const root = path.join(base, 'lwc', 'project');
    try {
      fs.mkdirSync(path.join(root, 'force-app', 'classes'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'sfdx-project.json'),
        '{"packageDirectories":[{"path":"force-app"}]}'
      );
      const res = await checkMetadata(root);
      expect(located(res, root)).toContain('force-app:0 sdr/lwc-ancestor');
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('fails when sfdx-project.json cannot be read', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-md-'));
    try {
      fs.writeFileSync(path.join(root, 'sfdx-project.json'), '{ not json');
      const res = await checkMetadata(root);
      expect(res.ok).toBe(false);
      expect(res.findings[0]!.message).toContain('sfdx-project.json');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('xml reader', () => {
  const source =
    '<?xml version="1.0"?>\n<A x="1">\n  <!-- note -->\n  <b>1 &amp; 2</b>\n  <c><d>x</d></c>\n  <c><d><![CDATA[<y>]]></d></c>\n  <e/>\n</A>\n';

  it('keeps the line and column of every element', () => {
    const root = readXml(source);
    expect([root.line, root.column]).toEqual([2, 1]);
    expect(elementAt(root, '/c/1/d')).toMatchObject({ name: 'd', line: 6, column: 6, text: '<y>' });
    expect(elementAt(root, '/e').line).toBe(7);
    expect(elementAt(root, '/nope').name).toBe('A');
  });

  it('converts to the JSON shape of the Metadata API types', () => {
    expect(toJson(readXml(source))).toEqual({ b: '1 & 2', c: [{ d: 'x' }, { d: '<y>' }], e: '' });
  });

  it('rejects input it cannot read instead of guessing', () => {
    expect(() => readXml('<a><b></a>')).toThrow();
    expect(() => readXml('just text')).toThrow('no document element');
  });
});

describe('schema post-processing', () => {
  it('makes required arrays optional and keeps required scalars', () => {
    const schema = relaxRequiredArrays({
      definitions: {
        T: {
          type: 'object',
          properties: { label: { type: 'string' }, items: { type: 'array' } },
          required: ['label', 'items']
        }
      }
    });
    expect(schema.definitions!.T!.required).toEqual(['label']);
  });
});
