import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkDocs,
  parseMarkdownlintOutput,
  parseRemarkJson,
  requiredSections,
  sectionHeadings
} from '../verify/docs';
import { privateClasses } from '../docs/apex';
import { TOOL_ERROR } from '../lib/findings';
import { fixture, located } from './support';

jest.setTimeout(120_000);

const defects = fixture('docs-defects');
const clean = fixture('docs-clean');

describe('docs (markdownlint, links, pattern pages, Apex reference)', () => {
  it('reports every defect of the fixture at its file and line', async () => {
    const result = await checkDocs(defects);
    expect(result.ok).toBe(false);
    expect(located(result, defects)).toEqual([
      'docs/apex/fixture/Greeter.md:10 docs/apex-stale',
      'docs/apex/fixture/Removed.md:0 docs/apex-stale',
      'docs/patterns/demo.md:3 docs/pattern-flow',
      'docs/patterns/demo.md:3 docs/pattern-sections',
      'docs/patterns/demo.md:7 docs/pattern-sections',
      'docs/patterns/demo.md:11 docs/pattern-sections',
      'README.md:3 links/missing-file',
      'README.md:3 links/missing-heading',
      'README.md:3 markdownlint/MD051/link-fragments',
      'README.md:4 links/missing-heading-in-file',
      'README.md:10 markdownlint/MD056/table-column-count',
      'README.md:17 markdownlint/table-rows-outside-table'
    ]);
  });

  it('passes the clean fixture: links, anchors, a table, a Mermaid block and a fresh Apex reference', async () => {
    const result = await checkDocs(clean);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('is a failure, not a pass, when apexdocs cannot run on the project', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-docs-'));
    try {
      fs.mkdirSync(path.join(root, 'docs', 'apex'), { recursive: true });
      fs.writeFileSync(path.join(root, 'README.md'), '# Title\n');
      fs.writeFileSync(path.join(root, 'sfdx-project.json'), '{ not json');
      const result = await checkDocs(root);
      expect(result.ok).toBe(false);
      expect(result.findings.map((f) => f.rule)).toEqual([TOOL_ERROR]);
      expect(result.findings[0]?.message).toContain('sfdx-project.json');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails a README over 15 KB', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-docs-'));
    try {
      const paragraph =
        'A sentence that is long enough to make the README grow past its budget.\n\n';
      fs.writeFileSync(
        path.join(root, 'README.md'),
        `# Title\n\n${paragraph.repeat(250).trimEnd()}\n`
      );
      const result = await checkDocs(root);
      expect(located(result, root)).toEqual(['README.md:0 docs/readme-size']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses remark output that is not its JSON, and turns a file remark could not process into a tool error', () => {
    expect(() => parseRemarkJson('/p', 'Error: something broke')).toThrow('not JSON');
    const findings = parseRemarkJson(
      '/p',
      JSON.stringify([{ path: 'a.md', messages: [{ reason: 'Cannot process file', fatal: true }] }])
    );
    expect(findings.map((f) => f.rule)).toEqual([TOOL_ERROR]);
  });

  it("reads markdownlint-cli2's lines, with and without a column, and ignores its banner", () => {
    const root = fixture('docs-defects');
    const output = [
      'markdownlint-cli2 v0.22.1 (markdownlint v0.40.0)',
      'Summary: 2 error(s)',
      'README.md:10:13 error MD056/table-column-count Table column count [Expected: 2; Actual: 3]',
      'README.md:17 error table-rows-outside-table Table rows that do not render as a table'
    ].join('\n');
    expect(parseMarkdownlintOutput(root, output)).toEqual([
      expect.objectContaining({
        line: 10,
        column: 13,
        rule: 'markdownlint/MD056/table-column-count'
      }),
      expect.objectContaining({ line: 17, rule: 'markdownlint/table-rows-outside-table' })
    ]);
  });

  it('takes the required sections from docs/adding-a-pattern.md and ignores headings inside code', () => {
    expect(
      requiredSections(
        '# A\n\n## Docs: x\n\n1. **One** (a)\n2. **Two, too**\n\n## Next\n\n1. **No**\n'
      )
    ).toEqual(['One', 'Two, too']);
    expect(
      sectionHeadings('## One\n\n```md\n## Not a heading\n```\n\n### Sub\n\n## Two\n').map(
        (h) => h.title
      )
    ).toEqual(['One', 'Two']);
  });

  it('leaves out of the Apex reference only the classes declared private at the top level', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-private-'));
    try {
      const classes: Record<string, string> = {
        'PlainTest.cls': '@IsTest\nprivate class PlainTest {\n}\n',
        'SharingTest.cls':
          '/** A test, with a comment that says public class. */\n@IsTest(SeeAllData=false)\n' +
          'private with sharing class SharingTest {\n}\n',
        'LowerCase.cls': '// header\n@isTest\nPRIVATE class LowerCase {\n}\n',
        'PublicMock.cls': '@IsTest\npublic class PublicMock {\n  private class Inner {}\n}\n',
        'Resource.cls':
          "@RestResource(urlMapping='/orders/*')\nglobal with sharing class Resource {\n" +
          '  private class Hidden {}\n}\n',
        'Commented.cls': '/* private class Commented */\npublic class Commented {\n}\n',
        'Unreadable.cls': '@IsTest\n/* unclosed\nprivate class Unreadable {\n}\n'
      };
      for (const [name, source] of Object.entries(classes)) {
        fs.writeFileSync(path.join(dir, name), source);
      }
      expect(
        privateClasses(dir)
          .map((file) => path.basename(file))
          .sort()
      ).toEqual(['LowerCase.cls', 'PlainTest.cls', 'SharingTest.cls']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
