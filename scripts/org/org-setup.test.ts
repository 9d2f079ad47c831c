import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SfJsonResult, SfRunOptions, SfRunner } from './sf-runner';
import { convertEndpoints } from '../verify/deploy-endpoints';
import { GATE_ROOT } from '../lib/project';
import {
  APP_PATH,
  PLACEHOLDER_URL,
  deployEnvironment,
  OrgSetupError,
  describeDeployFailure,
  findPermissionSets,
  setUpScratchOrg,
  type OrgSetupDependencies,
  type OrgSetupOptions,
  type SampleDataSet
} from './org-setup';

type Answer = SfJsonResult | ((args: readonly string[]) => SfJsonResult);

/** Answers `sf` calls by their leading words (`org display`, `project deploy start` …) and records every call. */
class ScriptedSf implements SfRunner {
  readonly calls: string[][] = [];
  readonly envs: (Readonly<Record<string, string>> | undefined)[] = [];
  readonly csvFiles: Record<string, string> = {};
  constructor(private readonly answers: Record<string, Answer>) {}

  async run<T>(args: readonly string[], options?: SfRunOptions): Promise<SfJsonResult<T>> {
    this.calls.push([...args]);
    this.envs.push(options?.env);
    if (args[0] === 'data') {
      const file = args[args.indexOf('--file') + 1] as string;
      this.csvFiles[args[args.indexOf('--sobject') + 1] as string] = await readFile(file, 'utf8');
    }
    const key = Object.keys(this.answers)
      .filter((prefix) => args.join(' ').startsWith(prefix))
      .sort((a, b) => b.length - a.length)[0];
    if (key === undefined) throw new Error(`unexpected sf call: ${args.join(' ')}`);
    const answer = this.answers[key] as Answer;
    return (typeof answer === 'function' ? answer(args) : answer) as SfJsonResult<T>;
  }

  commands(): string[] {
    return this.calls.map((call) => call.slice(0, 3).join(' '));
  }
}

const ORG = {
  username: 'test-abc@example.com',
  instanceUrl: 'https://example.my.salesforce.com',
  accessToken: '00D!token',
  apiVersion: '67.0'
};
const SAMPLE: SampleDataSet[] = [
  {
    sobject: 'Account',
    externalIdField: 'ERP_Customer_Number__c',
    records: [
      { Name: 'Acme, Inc.', ERP_Customer_Number__c: 'C-000001' },
      { Name: 'Globex "East"', ERP_Customer_Number__c: 'C-000002' }
    ]
  }
];

async function projectWithPermissionSets(names: string[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'org-setup-test-'));
  await mkdir(path.join(root, 'force-app'));
  await writeFile(
    path.join(root, 'sfdx-project.json'),
    JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }] })
  );
  for (const [index, name] of names.entries()) {
    const dir = path.join(root, 'force-app', 'main', `pattern${index}`, 'permissionsets');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.permissionset-meta.xml`), '<PermissionSet/>');
  }
  return root;
}

function options(projectRoot: string, overrides: Partial<OrgSetupOptions> = {}): OrgSetupOptions {
  return {
    projectRoot,
    alias: 'demo',
    durationDays: 7,
    remoteSystemUrl: 'https://erp.example.com',
    erpSharedSecret: 's3cret',
    open: false,
    ...overrides
  };
}

function deps(sf: SfRunner, log: string[], stored: string[] = []): OrgSetupDependencies {
  return {
    sf,
    log: (line) => log.push(line),
    sampleData: () => SAMPLE,
    storeSecret: async (org, secret) => {
      stored.push(`${org.instanceUrl} ${org.accessToken} ${secret}`);
      return 'created';
    }
  };
}

const OK = { status: 0, result: {} };
const happyAnswers = (overrides: Record<string, Answer> = {}): Record<string, Answer> => ({
  'org display': { status: 0, result: ORG },
  'project deploy start': { status: 0, result: { files: [{}, {}, {}] } },
  'org assign permset': { status: 0, result: { successes: [], failures: [] } },
  'data upsert bulk': { status: 0, result: { jobInfo: { numberRecordsFailed: 0 } } },
  'org open': { status: 0, result: { url: `${ORG.instanceUrl}/${APP_PATH}` } },
  ...overrides
});

describe('setUpScratchOrg', () => {
  it('reuses an existing org and runs every step in order', async () => {
    const root = await projectWithPermissionSets(['Integration_Admin', 'Request_Reply_User']);
    const sf = new ScriptedSf(happyAnswers());
    const log: string[] = [];
    const stored: string[] = [];

    await setUpScratchOrg(options(root), deps(sf, log, stored));

    expect(sf.commands()).toEqual([
      'org display --target-org',
      'project deploy start',
      'org assign permset',
      'data upsert bulk',
      'org open --target-org'
    ]);
    expect(sf.calls[2]).toEqual(
      expect.arrayContaining(['--name', 'Integration_Admin', '--name', 'Request_Reply_User'])
    );
    expect(stored).toEqual([`${ORG.instanceUrl} ${ORG.accessToken} s3cret`]);
    expect(sf.calls.at(-1)).toContain('--url-only');
    expect(log.at(-1)).toBe(`Ready: ${ORG.instanceUrl}/${APP_PATH}`);
  });

  it('writes sample data as CSV upserted on the external id', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf(happyAnswers());
    await setUpScratchOrg(options(root), deps(sf, []));

    const upsert = sf.calls.find((call) => call[0] === 'data') as string[];
    expect(upsert[upsert.indexOf('--external-id') + 1]).toBe('ERP_Customer_Number__c');
    expect(sf.csvFiles.Account).toBe(
      'Name,ERP_Customer_Number__c\n"Acme, Inc.",C-000001\n"Globex ""East""",C-000002\n'
    );
  });

  it('creates the scratch org from the default Dev Hub when the alias is unknown', async () => {
    const root = await projectWithPermissionSets([]);
    let displays = 0;
    const sf = new ScriptedSf(
      happyAnswers({
        'org display': () =>
          displays++ === 0
            ? {
                status: 2,
                name: 'NamedOrgNotFoundError',
                message: 'No authorization information found'
              }
            : { status: 0, result: ORG },
        'config get target-dev-hub': {
          status: 0,
          result: [{ name: 'target-dev-hub', value: 'MyHub' }]
        },
        'org create scratch': OK
      })
    );

    await setUpScratchOrg(options(root, { durationDays: 3 }), deps(sf, []));

    const create = sf.calls.find((call) => call[1] === 'create') as string[];
    expect(create).toEqual(
      expect.arrayContaining([
        '--target-dev-hub',
        'MyHub',
        '--duration-days',
        '3',
        '--alias',
        'demo'
      ])
    );
    expect(create[create.indexOf('--definition-file') + 1]).toBe(
      path.join('config', 'project-scratch-def.json')
    );
  });

  it('stops with the command to run when no Dev Hub is authorized', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf({
      'org display': { status: 2, name: 'NamedOrgNotFoundError', message: 'not found' },
      'config get target-dev-hub': {
        status: 0,
        result: [{ name: 'target-dev-hub', success: true }]
      }
    });

    const run = setUpScratchOrg(options(root), deps(sf, []));

    await expect(run).rejects.toThrow(OrgSetupError);
    await expect(run).rejects.toThrow(
      /No Dev Hub is authorized[\s\S]*sf org login web --set-default-dev-hub/
    );
    expect(sf.commands()).not.toContain('org create scratch');
  });

  it('reports each failing component when the deploy fails', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf(
      happyAnswers({
        'project deploy start': {
          status: 1,
          message: 'Deploy failed.',
          result: {
            details: {
              componentFailures: [
                {
                  componentType: 'ApexClass',
                  fullName: 'CalloutClient',
                  problem: 'Unexpected token',
                  lineNumber: 12
                }
              ]
            }
          }
        }
      })
    );

    await expect(setUpScratchOrg(options(root), deps(sf, []))).rejects.toThrow(
      'ApexClass CalloutClient:12: Unexpected token'
    );
    expect(sf.commands()).not.toContain('org assign permset');
  });

  it('treats permission sets that are already assigned as done, and real failures as errors', async () => {
    const root = await projectWithPermissionSets(['A_Set', 'B_Set']);
    const duplicate = new ScriptedSf(
      happyAnswers({
        'org assign permset': {
          status: 1,
          result: {
            successes: [],
            failures: [{ name: 'A_Set', message: 'Duplicate PermissionSetAssignment' }]
          }
        }
      })
    );
    await expect(setUpScratchOrg(options(root), deps(duplicate, []))).resolves.toBeUndefined();

    const broken = new ScriptedSf(
      happyAnswers({
        'org assign permset': {
          status: 1,
          result: {
            successes: [],
            failures: [{ name: 'B_Set', message: 'Permission set not found' }]
          }
        }
      })
    );
    await expect(setUpScratchOrg(options(root), deps(broken, []))).rejects.toThrow(
      'B_Set: Permission set not found'
    );
  });

  it('fails when a sample data job has failed records', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf(
      happyAnswers({
        'data upsert bulk': { status: 0, result: { jobInfo: { numberRecordsFailed: 2 } } }
      })
    );
    await expect(setUpScratchOrg(options(root), deps(sf, []))).rejects.toThrow(
      /upsert of Account failed \(2 failed records\)/
    );
  });

  it('rejects a non-HTTPS remote system URL before deploying', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf(happyAnswers());
    await expect(
      setUpScratchOrg(options(root, { remoteSystemUrl: 'http://localhost:3000' }), deps(sf, []))
    ).rejects.toThrow(/must be an https:\/\/ URL/);
    expect(sf.commands()).not.toContain('project deploy start');
  });

  it('warns, and skips storing the secret, when the URL and secret are not set', async () => {
    const root = await projectWithPermissionSets([]);
    const sf = new ScriptedSf(happyAnswers());
    const log: string[] = [];
    const stored: string[] = [];
    await setUpScratchOrg(
      options(root, { remoteSystemUrl: undefined, erpSharedSecret: undefined, open: true }),
      deps(sf, log, stored)
    );
    expect(stored).toEqual([]);
    expect(log.join('\n')).toMatch(/REMOTE_SYSTEM_URL is not set/);
    expect(log.join('\n')).toMatch(/ERP_SHARED_SECRET is not set/);
    expect(sf.calls.at(-1)).not.toContain('--url-only');
  });

  it('deploys with REMOTE_SYSTEM_URL set: the placeholder when unset, as its message says, else the URL', async () => {
    const root = await projectWithPermissionSets([]);
    for (const [url, expected] of [
      [undefined, PLACEHOLDER_URL],
      ['https://erp.example.com', 'https://erp.example.com']
    ] as const) {
      const sf = new ScriptedSf(happyAnswers());
      await setUpScratchOrg(options(root, { remoteSystemUrl: url }), deps(sf, []));
      const deploy = sf.commands().indexOf('project deploy start');
      expect(sf.envs[deploy]).toEqual({ REMOTE_SYSTEM_URL: expected });
    }
  });
});

describe('what org:setup deploys (the project converted as the CLI does, replacements applied)', () => {
  const erpUrl = async (env: Record<string, string | undefined>): Promise<string | undefined> => {
    const outcome = await convertEndpoints(GATE_ROOT, env);
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.endpoints.find((e) => e.type === 'NamedCredential' && e.name === 'ERP')?.url;
  };

  it('keeps the placeholder URL in the ERP Named Credential when REMOTE_SYSTEM_URL is unset', async () => {
    expect(await erpUrl({ REMOTE_SYSTEM_URL: undefined, ...deployEnvironment(undefined) })).toBe(
      PLACEHOLDER_URL
    );
  });

  it('puts the given URL in the ERP Named Credential', async () => {
    expect(await erpUrl(deployEnvironment('https://erp.example.com'))).toBe(
      'https://erp.example.com'
    );
  });

  it('stops a hand-run deploy without REMOTE_SYSTEM_URL instead of sending an empty URL', async () => {
    const outcome = await convertEndpoints(GATE_ROOT, { REMOTE_SYSTEM_URL: undefined });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(/REMOTE_SYSTEM_URL.*not set/);
  });
});

describe('findPermissionSets', () => {
  it('lists every permission set under force-app, sorted', async () => {
    const root = await projectWithPermissionSets(['Zeta_User', 'Alpha_Admin']);
    expect(findPermissionSets(root)).toEqual(['Alpha_Admin', 'Zeta_User']);
  });
});

describe('describeDeployFailure', () => {
  it('accepts the single-object form the Metadata API uses for one failure', () => {
    expect(
      describeDeployFailure({
        status: 1,
        result: {
          details: { componentFailures: { componentType: 'Flow', fullName: 'X', problem: 'bad' } }
        }
      })
    ).toBe('  Flow X: bad');
  });
});
