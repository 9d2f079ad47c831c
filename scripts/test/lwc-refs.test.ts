import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkLwcRefs } from '../verify/lwc-refs';
import { blankJsComments, jsReferences, lightningCatalogue, tagToModuleName } from '../lib/lwc';
import { fixture, located } from './support';

jest.setTimeout(120_000);

const defects = fixture('lwc-refs-defects');
const LWC = 'force-app/main/default/lwc/broken';

describe('lwc-refs', () => {
  it('reports every unresolved reference of the fixture at its file and line', async () => {
    const result = await checkLwcRefs(defects);
    expect(located(result, defects)).toEqual([
      `${LWC}/broken.html:4 lwc-refs/component`,
      `${LWC}/broken.html:6 lwc-refs/component`,
      `${LWC}/broken.js:3 lwc-refs/apex-method`,
      `${LWC}/broken.js:4 lwc-refs/apex-method`,
      `${LWC}/broken.js:5 lwc-refs/apex-method`,
      `${LWC}/broken.js:6 lwc-refs/apex-method`,
      `${LWC}/broken.js:7 lwc-refs/apex-method`,
      `${LWC}/broken.js:8 lwc-refs/apex-method`,
      `${LWC}/broken.js:9 lwc-refs/apex-method`,
      `${LWC}/broken.js:11 lwc-refs/schema`,
      `${LWC}/broken.js:13 lwc-refs/schema`,
      `${LWC}/broken.js:15 lwc-refs/schema`,
      `${LWC}/broken.js:16 lwc-refs/schema`,
      `${LWC}/broken.js:18 lwc-refs/component`,
      `${LWC}/broken.js:19 lwc-refs/component`,
      `${LWC}/broken.js:21 lwc-refs/module`,
      `${LWC}/broken.js-meta.xml:8 lwc-refs/target`,
      `${LWC}/broken.js-meta.xml:12 lwc-refs/target-config`,
      `${LWC}/broken.js-meta.xml:16 lwc-refs/target-config`
    ]);
    expect(result.ok).toBe(false);
    const messages = result.findings.map((f) => f.message);
    expect(messages).toContain(
      'imports Ctrl.missingMethod, but Ctrl has no method missingMethod: the deploy fails'
    );
    expect(messages.find((m) => m.startsWith('Ctrl.notCacheable'))).toContain('cacheable=true');
    expect(messages.find((m) => m.startsWith('Ctrl.notContinuation'))).toContain(
      'continuation=true'
    );
    expect(result.findings[2]!.column).toBe(28);
  });

  it('passes the clean fixtures and the valid modern one', async () => {
    for (const name of ['clean', 'modern-valid']) {
      const result = await checkLwcRefs(fixture(name));
      expect(result.findings).toEqual([]);
      expect(result.ok).toBe(true);
    }
  });

  it('fails when a referenced Apex method, field or child component is removed', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-lwc-refs-'));
    try {
      fs.cpSync(fixture('modern-valid'), root, { recursive: true });
      const before = await checkLwcRefs(root);
      expect(before.findings).toEqual([]);
      const ctrl = path.join(root, 'force-app/main/core/classes/AccountCardController.cls');
      fs.writeFileSync(
        ctrl,
        fs.readFileSync(ctrl, 'utf8').replace('getAccountSummary', 'getAccountSummaries')
      );
      const field = path.join(
        root,
        'force-app/main/core/objects/Account/fields/Tier__c.field-meta.xml'
      );
      fs.rmSync(field);
      fs.rmSync(path.join(root, 'force-app/main/core/lwc/statusBadge'), { recursive: true });
      const after = await checkLwcRefs(root);
      expect(after.findings.map((f) => f.rule).sort()).toEqual([
        'lwc-refs/apex-method',
        // <c-status-badge> in accountCard (core) and orderList (alpha)
        'lwc-refs/component',
        'lwc-refs/component',
        'lwc-refs/schema'
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('lwc reference readers', () => {
  it('reads imports with their position, and which ones feed a @wire', () => {
    const source =
      "import a from '@salesforce/apex/A.a';\n// import x from 'c/x';\nimport { b } from \"lightning/b\";\nexport default class X { @wire(a) v; }\n";
    expect(jsReferences('/x.js', source)).toEqual([
      expect.objectContaining({
        line: 1,
        column: 16,
        target: '@salesforce/apex/A.a',
        local: 'a',
        wired: true
      }),
      expect.objectContaining({ line: 3, target: 'lightning/b' })
    ]);
    expect(blankJsComments("a /* b */ 'c // d'").trim()).toBe("a         'c // d'");
  });

  it('maps tags to module names and reads the base-component catalogue from sfdx-lwc-jest', () => {
    expect(tagToModuleName('c-order-readiness-check')).toBe('orderReadinessCheck');
    expect(tagToModuleName('lightning-button-icon')).toBe('buttonIcon');
    const catalogue = lightningCatalogue();
    expect(catalogue.components.has('datatable')).toBe(true);
    expect(catalogue.modules.has('uiRecordApi')).toBe(true);
    expect(catalogue.components.has('uiRecordApi')).toBe(false);
  });
});
