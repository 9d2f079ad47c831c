import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canComplete, checkApexTypes, normaliseType } from '../verify/apex-types';
import { parseApex } from '../lib/apex';
import type { TreeNode } from '../lib/apex-model';
import { CLASSES, fixture } from './support';

jest.setTimeout(120_000);

const defects = fixture('apex-types-defects');

describe('apex-types', () => {
  it('reports each compile error apexlink misses at its line and column', async () => {
    const result = await checkApexTypes(defects);
    expect(result.ok).toBe(false);
    expect(
      result.findings.map(
        (f) => `${path.relative(defects, f.file)}:${f.line}:${f.column} ${f.rule}`
      )
    ).toEqual(
      [
        '9:24 soql-field', // SELECT Nam FROM Account
        '13:35 soql-field', // Order__c.Priority__c is not defined in this project
        '13:93 soql-field', // ORDER BY Nope__c
        '17:38 soql-field', // Parent.Nam
        '17:66 soql-field', // child relationship Contactz
        '22:30 soql-assignment', // Account rows into List<Contact>
        '23:22 soql-assignment', // for (Contact c : [… FROM Account])
        '26:28 soql-assignment', // aggregate query into List<Account>
        '29:25 missing-return',
        '36:12 return-type', // return 5 from a String method
        '41:12 return-type', // a String local from an Integer method
        '45:12 soql-assignment', // return Account rows as List<Contact>
        '50:5 final-reassigned', // final local
        '54:5 final-reassigned', // final field with an initializer
        '55:5 final-reassigned', // final field outside a constructor
        '59:22 constructor-args', // new Continuation('forty')
        '60:21 constructor-args', // new HttpRequest('GET')
        '65:61 soql-field', // SOSL RETURNING Account(Nam)
        '65:67 soql-field' // SOSL RETURNING an undefined custom object
      ].map((s) => `${CLASSES}/TypeDefects.cls:${s.split(' ')[0]} apex-types/${s.split(' ')[1]}`)
    );
    const messages = result.findings.map((f) => f.message);
    expect(messages[0]).toContain('Account has no field Nam');
    expect(messages.find((m) => m.includes('Continuation'))).toContain('Continuation(Integer)');
  });

  it('passes the project-shaped fixture of valid modern Apex and the clean fixture', async () => {
    for (const name of ['modern-valid', 'clean']) {
      const result = await checkApexTypes(fixture(name));
      expect(result.findings).toEqual([]);
      expect(result.ok).toBe(true);
    }
  });

  it('fails when a field a query reads is removed from the object', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-apex-types-'));
    try {
      fs.cpSync(fixture('modern-valid'), root, { recursive: true });
      fs.rmSync(
        path.join(
          root,
          'force-app/main/alpha/objects/Web_Order__c/fields/Shipped__c.field-meta.xml'
        )
      );
      const result = await checkApexTypes(root);
      expect(result.findings.map((f) => `${path.basename(f.file)}:${f.line} ${f.rule}`)).toEqual([
        'WebOrderResource.cls:27 apex-types/soql-field',
        'WebOrderSync.cls:9 apex-types/soql-field'
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('apex-types helpers', () => {
  const body = (statements: string): TreeNode => {
    const tree = parseApex(`class A { Integer m() { ${statements} } }`, 'class')
      .tree as unknown as TreeNode;
    const find = (n: TreeNode): TreeNode | undefined =>
      n.constructor.name === 'BlockContext' ? n : (n.children ?? []).map(find).find(Boolean);
    return find(tree)!;
  };

  it('knows which statements can fall through to the end of a method', () => {
    expect(canComplete(body('return 1;'))).toBe(false);
    expect(canComplete(body('if (x) { return 1; } else { throw new E(); }'))).toBe(false);
    expect(canComplete(body('if (x) { return 1; }'))).toBe(true);
    expect(canComplete(body('while (true) { }'))).toBe(false);
    expect(canComplete(body('while (true) { break; }'))).toBe(true);
    expect(canComplete(body('switch on x { when 1 { return 1; } when else { return 2; } }'))).toBe(
      false
    );
    expect(canComplete(body('switch on x { when 1 { return 1; } }'))).toBe(true);
    expect(canComplete(body('try { return 1; } catch (Exception e) { return 2; }'))).toBe(false);
    expect(canComplete(body('try { return 1; } catch (Exception e) { }'))).toBe(true);
  });

  it('normalises type names', () => {
    expect(normaliseType('System.String')).toBe('string');
    expect(normaliseType('Account[]')).toBe('list<account>');
    expect(normaliseType('List< Schema.Account >')).toBe('list<account>');
  });
});
