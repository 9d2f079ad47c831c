import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  apexlinkFindings,
  checkApexSemantics,
  EXCUSES,
  restoreExternalNames
} from '../verify/apex-semantics';
import { checkApexSyntax } from '../verify/apex-syntax';
import { checkCodeAnalyzer } from '../verify/code-analyzer';
import { parseApex, rewriteForApexlink } from '../lib/apex';
import { TOOL_ERROR, type CheckResult } from '../lib/findings';
import { CLASSES, findingsIn, fixture, located } from './support';

jest.setTimeout(300_000);

const defects = fixture('apex-defects');
const clean = fixture('clean');

describe('apex-syntax', () => {
  it('reports the syntax error with file, line and column', async () => {
    const result = await checkApexSyntax(defects);
    expect(result.ok).toBe(false);
    expect(result.findings).toEqual([
      expect.objectContaining({
        file: `${defects}/${CLASSES}/SyntaxDefect.cls`,
        line: 4,
        column: 25,
        rule: 'apex-parser/syntax'
      })
    ]);
  });

  it('passes a clean project that uses ??, WITH USER_MODE and AccessLevel', async () => {
    const result = await checkApexSyntax(clean);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('rewriteForApexlink', () => {
  const wrap = (body: string): string =>
    `public class A {\n  void m(String s, List<Account> a) {\n${body}\n  }\n}\n`;

  it('blanks WITH USER_MODE / SYSTEM_MODE and DML access modes, keeping every column', () => {
    const source = wrap(
      '    a = [SELECT Id FROM Account WITH USER_MODE];\n    insert as user a;\n    update as system a;'
    );
    const out = rewriteForApexlink(source, 'class')!;
    expect(out.length).toBe(source.length);
    expect(out).toContain('[SELECT Id FROM Account               ];');
    expect(out).toContain('insert         a;');
    expect(out).toContain('update           a;');
    expect(out.split('\n').map((l) => l.length)).toEqual(source.split('\n').map((l) => l.length));
  });

  it('keeps the left operand of ?? and blanks the right one', () => {
    const out = rewriteForApexlink(wrap("    String t = s ?? ('x' + s);"), 'class')!;
    expect(out).toContain('    String t = s             ;');
    expect(parseApex(out, 'class').errors).toEqual([]);
  });

  it('turns the literal term of inline SOSL into a bind of the same length', () => {
    const source = wrap(
      "    List<List<SObject>> r = [FIND 'acme*' IN ALL FIELDS RETURNING Account(Id) WITH USER_MODE];"
    );
    const out = rewriteForApexlink(source, 'class')!;
    expect(out).toContain("[FIND :'xxxx' IN ALL FIELDS RETURNING Account(Id)               ];");
    expect(out.length).toBe(source.length);
  });

  it('leaves source without newer syntax untouched and refuses unparsable source', () => {
    const plain = wrap('    String t = s;');
    expect(rewriteForApexlink(plain, 'class')).toBe(plain);
    expect(rewriteForApexlink('public class {', 'class')).toBeNull();
  });
});

describe('apex-semantics (apexlink)', () => {
  let result: CheckResult;
  beforeAll(async () => {
    result = await checkApexSemantics(defects);
  });

  it('reports a String assigned to an Integer, an unknown field and an unknown platform method', () => {
    const semantic = findingsIn(result, defects, `${CLASSES}/SemanticDefects.cls`);
    expect(semantic.map((f) => `${f.line}:${f.column} ${f.rule} ${f.message}`)).toEqual([
      "8:17 apexlink/Error Incompatible types in assignment, from 'System.String' to 'System.Integer'",
      "10:9 apexlink/Missing Unknown field 'Nope__c' on SObject 'Schema.Order__c'",
      "11:9 apexlink/Error No matching method found for 'publishh' on 'System.EventBus' taking arguments 'Schema.Order__c'",
      // `name ?? 7`: the rewrite keeps the left operand, so the wrong target type is still caught
      "17:17 apexlink/Error Incompatible types in assignment, from 'System.String' to 'System.Integer'",
      // External Objects are checked as custom objects in the shadow copy, reported under their real name
      "18:26 apexlink/Missing Unknown field 'Carrier__c' on SObject 'Schema.Shipment__x'"
    ]);
  });

  it('reports the syntax error too (apexlink parses with its own, older grammar)', () => {
    expect(located(result, defects)).toContain(`${CLASSES}/SyntaxDefect.cls:4 apexlink/Syntax`);
  });

  it('excuses only the newer constructs, each by its own narrow rule', () => {
    expect(result.notes).toEqual(
      expect.arrayContaining([
        'excused 3 × newer-system-type-reference',
        'excused 1 × external-object-standard-field',
        'External Objects checked as custom objects: Shipment__x'
      ])
    );
    expect(result.ok).toBe(false);
  });

  it('passes the clean project', async () => {
    const cleanResult = await checkApexSemantics(clean);
    expect(cleanResult.findings).toEqual([]);
    expect(cleanResult.ok).toBe(true);
  });

  it('excuses the API 60 publish callbacks only where the source says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-excuse-'));
    try {
      const file = path.join(dir, 'A.cls');
      fs.writeFileSync(
        file,
        [
          'public class A implements EventBus.EventPublishFailureCallback {',
          '  public void onFailure(EventBus.FailureResult result) {}',
          '  static void p(List<E__e> events) { EventBus.publish(events, new A()); }',
          '  static void t() { Test.getEventBus().fail(); }',
          '  static void u() { Other.fail(); }',
          ''
        ].join('\n')
      );
      const message = (line: number, start: number, end: number, text: string) => ({
        start: { line, offset: start },
        end: { line, offset: end },
        category: 'Error',
        message: text
      });
      const output = JSON.stringify({
        files: [
          {
            path: file,
            messages: [
              message(
                1,
                28,
                64,
                "No type declaration found for 'EventBus.EventPublishFailureCallback'"
              ),
              message(2, 24, 46, "No type declaration found for 'EventBus.FailureResult'"),
              message(
                3,
                37,
                69,
                "No matching method found for 'publish' on 'System.EventBus' taking arguments 'System.List<Schema.E__e>, A'"
              ),
              message(
                4,
                20,
                45,
                "No matching method found for 'fail' on 'eventbus.TestBroker' taking no arguments"
              ),
              message(
                5,
                20,
                32,
                "No matching method found for 'fail' on 'eventbus.TestBroker' taking no arguments"
              )
            ]
          }
        ]
      });
      const excused = new Map<string, number>();
      const findings = apexlinkFindings(output, dir, dir, new Set(), excused);
      expect(excused.get('eventbus-publish-callbacks')).toBe(4);
      expect(findings.map((f) => f.line)).toEqual([5]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses apexlink output that is not its JSON report', () => {
    const read = (output: string) => () =>
      apexlinkFindings(output, '/shadow', '/root', new Set(), new Map());
    expect(read('Exception in thread "main" java.lang.OutOfMemoryError')).toThrow('not JSON');
    expect(read('{"messages": []}')).toThrow('no "files" array');
  });

  it('names a syntax error in valid Apex as a gap in apexlink, still a failure', () => {
    const output = JSON.stringify({
      files: [
        {
          path: '/shadow/force-app/A.cls',
          messages: [
            {
              start: { line: 3, offset: 4 },
              end: { line: 3, offset: 5 },
              category: 'Syntax',
              message: "missing ';'"
            }
          ]
        }
      ]
    });
    const read = (valid: Set<string>) =>
      apexlinkFindings(output, '/shadow', '/root', new Set(), new Map(), new Map(), valid);
    expect(read(new Set(['/shadow/force-app/A.cls']))).toEqual([
      expect.objectContaining({
        file: '/root/force-app/A.cls',
        line: 3,
        rule: 'apexlink/unsupported-syntax'
      })
    ]);
    expect(read(new Set())).toEqual([
      expect.objectContaining({ rule: 'apexlink/Syntax', message: "missing ';'" })
    ]);
  });

  it('fails with a clear message when Java is missing', async () => {
    const missing = await checkApexSemantics(clean, { java: '/nonexistent/bin/java' });
    expect(missing.ok).toBe(false);
    expect(missing.findings).toEqual([
      expect.objectContaining({
        rule: TOOL_ERROR,
        message: expect.stringContaining('command not found: /nonexistent/bin/java')
      })
    ]);
  });
});

describe('apexlink excuses are narrow', () => {
  const base = {
    file: '/p/A.cls',
    lineText: '',
    rangeText: '',
    externalObjects: new Set(['shipment__x'])
  };
  const excused = (ctx: Partial<typeof base> & { message: string }): string | undefined =>
    EXCUSES.find((e) => e.matches({ ...base, ...ctx }))?.id;

  it('excuse Assert only where the source says Assert', () => {
    expect(
      excused({ message: "No variable or type found for 'Assert' on 'A'", rangeText: 'Assert' })
    ).toBe('newer-system-type-reference');
    expect(
      excused({ message: "No variable or type found for 'Assert' on 'A'", rangeText: 'Asert' })
    ).toBeUndefined();
    expect(
      excused({ message: "No variable or type found for 'Assertx' on 'A'", rangeText: 'Assertx' })
    ).toBeUndefined();
  });

  it('excuse External Objects only when the project defines them', () => {
    const message = "No type declaration found for 'List<Shipment__x>'";
    expect(excused({ message, lineText: 'List<Shipment__x> s;' })).toBe('external-object-type');
    expect(
      excused({
        message: "No type declaration found for 'List<Parcel__x>'",
        lineText: 'List<Parcel__x> s;'
      })
    ).toBeUndefined();
    expect(
      excused({
        message: "No type declaration found for 'Map<Nope__c, Shipment__x>'",
        lineText: 'Map<Nope__c, Shipment__x> m;'
      })
    ).toBeUndefined();
  });

  it('excuse EventUuid only on platform events, and Apex cursors only on Database', () => {
    const uuid = (object: string): string | undefined =>
      excused({
        message: `Unknown field 'EventUuid' on SObject 'Schema.${object}'`,
        rangeText: 'event.EventUuid'
      });
    expect(uuid('Order_Event__e')).toBe('platform-event-uuid');
    expect(uuid('Order__c')).toBeUndefined();
    const cursor =
      "No matching method found for 'getCursor' on 'System.Database' taking arguments 'System.String'";
    expect(
      excused({ message: cursor, rangeText: "Database.getCursor('SELECT Id FROM Account')" })
    ).toBe('database-cursor');
    expect(
      excused({
        message:
          "No matching method found for 'getCursors' on 'System.Database' taking arguments 'System.String'",
        rangeText: "Database.getCursors('x')"
      })
    ).toBeUndefined();
  });

  it('excuse IndirectLookup only on fields of project External Objects', () => {
    const message = "Unrecognised type 'IndirectLookup' on custom field 'Customer__c'";
    const field = (object: string): string =>
      `/p/force-app/objects/${object}/fields/Customer__c.field-meta.xml`;
    expect(excused({ message, file: field('Shipment__x') })).toBe(
      'external-object-indirect-lookup'
    );
    expect(excused({ message, file: field('Order__c') })).toBeUndefined();
    expect(excused({ message, file: field('Parcel__x') })).toBeUndefined();
  });

  it('excuse ExternalId and DisplayUrl only on project External Objects', () => {
    const message = (field: string, object: string): string =>
      `Unknown field '${field}' on SObject 'Schema.${object}'`;
    expect(
      excused({ message: message('ExternalId', 'Shipment__x'), rangeText: 'rows[0].ExternalId' })
    ).toBe('external-object-standard-field');
    expect(
      excused({ message: message('ExternalId', 'Order__c'), rangeText: 'o.ExternalId' })
    ).toBeUndefined();
    expect(
      excused({ message: message('Carrier__c', 'Shipment__x'), rangeText: 's.Carrier__c' })
    ).toBeUndefined();
  });

  it('maps the shadow name of an External Object back to its real name, whole words only', () => {
    const renamed = new Map([['shipment__c', 'Shipment__x']]);
    expect(
      restoreExternalNames("Unknown field 'X__c' on SObject 'Schema.Shipment__c'", renamed)
    ).toBe("Unknown field 'X__c' on SObject 'Schema.Shipment__x'");
    expect(
      restoreExternalNames('objects/Shipment__c/fields/Shipment__cx.field-meta.xml', renamed)
    ).toBe('objects/Shipment__x/fields/Shipment__cx.field-meta.xml');
  });

  it('never excuses other kinds of message about the same names', () => {
    expect(
      excused({
        message: "No matching method found for 'areEquall' on 'System.Assert'",
        rangeText: 'Assert.areEquall'
      })
    ).toBeUndefined();
  });
});

describe('code-analyzer (PMD)', () => {
  let result: CheckResult;
  beforeAll(async () => {
    result = await checkCodeAnalyzer(defects);
  });

  it('reports SOQL and DML in a loop, missing sharing, CRUD and SOQL injection at their lines', () => {
    expect(
      findingsIn(result, defects, `${CLASSES}/GovernorDefects.cls`).map(
        (f) => `${f.line} ${f.rule}`
      )
    ).toEqual([
      '1 pmd/ApexSharingViolations',
      '4 pmd/ApexCRUDViolation',
      '4 pmd/OperationWithLimitsInLoop',
      '5 pmd/ApexCRUDViolation',
      '5 pmd/OperationWithLimitsInLoop',
      '8 pmd/ApexSOQLInjection'
    ]);
  });

  it('turns the engine error on an unparsable file into a finding at its line', () => {
    expect(located(result, defects)).toContain(`${CLASSES}/SyntaxDefect.cls:4 pmd/engine-error`);
  });

  it('accepts the user-mode code of SemanticDefects and fails overall', () => {
    expect(findingsIn(result, defects, `${CLASSES}/SemanticDefects.cls`)).toEqual([]);
    expect(result.ok).toBe(false);
  });

  it('passes the clean project', async () => {
    const cleanResult = await checkCodeAnalyzer(clean);
    expect(cleanResult.findings).toEqual([]);
    expect(cleanResult.ok).toBe(true);
  });

  it('fails, never passes silently, when Java is missing', async () => {
    const missing = await checkCodeAnalyzer(clean, { javaCommand: '/nonexistent/bin/java' });
    expect(missing.ok).toBe(false);
    expect(missing.findings.map((f) => f.rule)).toContain(TOOL_ERROR);
    expect(missing.findings.map((f) => f.message).join('\n')).toContain('/nonexistent/bin/java');
  });
});
