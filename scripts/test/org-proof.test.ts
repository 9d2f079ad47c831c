import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOrgProof, maskApex } from '../verify/org-proof';
import { convertEndpoints } from '../verify/deploy-endpoints';
import { GATE_ROOT } from '../lib/project';
import { fixture, located } from './support';

jest.setTimeout(120_000);

const root = fixture('org-proof');
const D = 'force-app/main/default';

describe('org-proof', () => {
  it('reports each org-only mistake of the fixture at its file and line', async () => {
    const result = await checkOrgProof(root);
    expect(located(result, root)).toEqual([
      `${D}/classes/Pinned.cls-meta.xml:3 org-proof/api-version-pin`,
      `${D}/classes/PublisherTest.cls:9 org-proof/static-after-delivery`,
      `${D}/classes/PublisherTest.cls:16 org-proof/static-before-delivery`,
      `${D}/namedCredentials/ERP.namedCredential-meta.xml:0 org-proof/empty-endpoint`,
      `${D}/namedCredentials/ERP.namedCredential-meta.xml:4 org-proof/eds-credential-options`,
      `${D}/namedCredentials/ERP.namedCredential-meta.xml:6 org-proof/eds-credential-options`
    ]);
    expect(result.ok).toBe(false);
    const messages = result.findings.map((f) => f.message).join('\n');
    expect(messages).toContain('Publisher.sent');
    expect(messages).toContain('Handler.cap');
    expect(messages).toContain('<generateAuthorizationHeader> must be true');
    expect(messages).toContain('<allowMergeFieldsInHeader> must be false');
    expect(messages).toContain('empty URL');
    expect(messages).toContain('Pinned.cls is saved at API 66.0');
  });

  it('leaves alone a credential no External Data Source uses, reads before delivery, constants, comments and strings', async () => {
    const result = await checkOrgProof(root);
    const files = result.findings.map((f) => path.basename(f.file));
    expect(files).not.toContain('Apex_Only.namedCredential-meta.xml');
    expect(files).not.toContain('Explained.cls-meta.xml');
    // line 7 reads Publisher.sent before Test.stopTest(); line 11 a constant; lines 18-19 a comment and a string
    expect(result.findings.map((f) => f.line)).not.toEqual(expect.arrayContaining([7, 11, 18, 19]));
  });

  it('passes the project', async () => {
    const result = await checkOrgProof(GATE_ROOT);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('masks comments and string literals without moving any offset', () => {
    const source = "a = 'x // y'; // Publisher.sent\n/* b.c */ d.e";
    const masked = maskApex(source);
    expect(masked).toHaveLength(source.length);
    expect(masked).not.toContain('Publisher.sent');
    expect(masked).not.toContain('b.c');
    expect(masked.endsWith('d.e')).toBe(true);
    expect(masked.split('\n')).toHaveLength(2);
  });
});

describe('converted endpoints', () => {
  let project: string;
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-endpoints-test-'));
    fs.cpSync(root, project, { recursive: true });
  });
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  it('an unset variable with allowUnsetEnvVariable becomes an empty URL', async () => {
    const outcome = await convertEndpoints(project, { REMOTE_SYSTEM_URL: undefined });
    expect(outcome.ok && outcome.endpoints.find((e) => e.name === 'ERP')?.url).toBe('');
  });

  it('without allowUnsetEnvVariable the conversion stops and names the variable', async () => {
    const file = path.join(project, 'sfdx-project.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      replacements: Record<string, unknown>[];
    };
    for (const replacement of config.replacements) delete replacement.allowUnsetEnvVariable;
    fs.writeFileSync(file, JSON.stringify(config));
    const outcome = await convertEndpoints(project, { REMOTE_SYSTEM_URL: undefined });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toContain('REMOTE_SYSTEM_URL');
  });

  it('a set variable replaces the placeholder, and process.env is restored afterwards', async () => {
    const before = process.env.REMOTE_SYSTEM_URL;
    const outcome = await convertEndpoints(project, {
      REMOTE_SYSTEM_URL: 'https://erp.example.com'
    });
    expect(
      outcome.ok && outcome.endpoints.map((e) => `${e.type} ${e.name} ${e.url}`).sort()
    ).toEqual([
      'ExternalDataSource Shipments callout:ERP/odata',
      'NamedCredential Apex_Only https://apex-only.example.com',
      'NamedCredential ERP https://erp.example.com'
    ]);
    expect(process.env.REMOTE_SYSTEM_URL).toBe(before);
    expect(process.env.SF_APPLY_REPLACEMENTS_ON_CONVERT).toBeUndefined();
  });
});
