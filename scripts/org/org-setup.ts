import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageFiles } from '../lib/project';
import type { SfJsonResult, SfRunner } from './sf-runner';
import { toCsv, type CsvRow } from './csv';
import { ERP_CREDENTIAL_TARGET, type OrgConnection } from './connect-credentials';

export interface OrgSetupOptions {
  readonly projectRoot: string;
  /** Alias of the scratch org; an existing org with this alias is reused, so re-runs are safe. */
  readonly alias: string;
  readonly durationDays: number;
  /** Dev Hub alias or username; defaults to the CLI's `target-dev-hub`. */
  readonly devHub?: string;
  /** Public HTTPS URL of the remote system, substituted into Named Credentials / External Data Sources. */
  readonly remoteSystemUrl?: string;
  /** Secret the ERP expects as bearer token; stored in the External Credential principal after deploy. */
  readonly erpSharedSecret?: string;
  /** Open the app in a browser at the end (otherwise only print its URL). */
  readonly open: boolean;
}

/** Upsert batches of sample records, keyed by an External ID so re-runs update instead of duplicating. */
export interface SampleDataSet {
  readonly sobject: string;
  readonly externalIdField: string;
  readonly records: readonly CsvRow[];
}

export interface OrgSetupDependencies {
  readonly sf: SfRunner;
  readonly log: (line: string) => void;
  /** Builds the sample data from the remote system's seed (same customers and products on both halves). */
  readonly sampleData: () => readonly SampleDataSet[];
  /** Stores the ERP secret in the org (Connect REST); injected so tests need no org. */
  readonly storeSecret: (org: OrgConnection, secret: string) => Promise<'created' | 'updated'>;
}

/** A step failed; the message says what to do about it. */
export class OrgSetupError extends Error {
  override name = 'OrgSetupError';
}

export const APP_PATH = 'lightning/app/c__Integration_Patterns';
/** The URL committed in the Named Credential and External Data Source files (`stringToReplace` in sfdx-project.json). */
export const PLACEHOLDER_URL = 'https://remote-system.example.invalid';

/**
 * The environment `org:setup` deploys with. `REMOTE_SYSTEM_URL` is always set: to the user's URL, or to the
 * committed placeholder when the user gave none. `sfdx-project.json` replaces the placeholder with the variable
 * and no longer allows it unset (an unset variable used to become an empty string, deploying the `ERP` Named
 * Credential with an empty URL), so without this a deploy would stop with the CLI's "not set in your
 * environment" error instead of keeping the placeholder the message promises.
 */
export function deployEnvironment(remoteSystemUrl: string | undefined): Record<string, string> {
  return { REMOTE_SYSTEM_URL: remoteSystemUrl || PLACEHOLDER_URL };
}

interface OrgDisplayResult {
  readonly username?: string;
  readonly instanceUrl?: string;
  readonly accessToken?: string;
  readonly apiVersion?: string;
  readonly expirationDate?: string;
}

/**
 * Creates (or reuses) a scratch org and makes it demo-ready: deploy, permission sets, ERP secret, sample data,
 * open the app. Every step can be run again on the same org without harm.
 */
export async function setUpScratchOrg(
  options: OrgSetupOptions,
  deps: OrgSetupDependencies
): Promise<void> {
  const { sf, log } = deps;
  const org = await ensureScratchOrg(options, deps);

  if (!options.remoteSystemUrl) {
    log(
      `REMOTE_SYSTEM_URL is not set: the ERP Named Credential will point at ${PLACEHOLDER_URL}. ` +
        'Expose `npm start` on a public HTTPS URL, export REMOTE_SYSTEM_URL and run org:setup again.'
    );
  } else if (!/^https:\/\//.test(options.remoteSystemUrl)) {
    throw new OrgSetupError(
      `REMOTE_SYSTEM_URL must be an https:// URL that Salesforce can reach (got ${options.remoteSystemUrl}).`
    );
  }

  log(`Deploying force-app to ${options.alias}…`);
  const deploy = await sf.run<DeployResult>(
    [
      'project',
      'deploy',
      'start',
      '--source-dir',
      'force-app',
      '--target-org',
      options.alias,
      '--wait',
      '30'
    ],
    { env: deployEnvironment(options.remoteSystemUrl) }
  );
  if (deploy.status !== 0)
    throw new OrgSetupError(`Deploy failed:\n${describeDeployFailure(deploy)}`);
  log(`Deployed ${deploy.result?.files?.length ?? 0} files.`);

  const permissionSets = findPermissionSets(options.projectRoot);
  await assignPermissionSets(options.alias, permissionSets, deps);

  if (options.erpSharedSecret) {
    const connection = toConnection(org, options.alias);
    const outcome = await deps.storeSecret(connection, options.erpSharedSecret);
    log(
      `ERP secret ${outcome} in ${ERP_CREDENTIAL_TARGET.externalCredential}/${ERP_CREDENTIAL_TARGET.principalName}.`
    );
  } else {
    log(
      'ERP_SHARED_SECRET is not set: callouts to the ERP will be rejected (401) until you set the ' +
        `${ERP_CREDENTIAL_TARGET.parameterName} of principal ${ERP_CREDENTIAL_TARGET.principalName} ` +
        `(Setup > Named Credentials > External Credentials > ${ERP_CREDENTIAL_TARGET.externalCredential}) ` +
        'or export it and run org:setup again.'
    );
  }

  await loadSampleData(options.alias, deps);

  const openArgs = ['org', 'open', '--target-org', options.alias, '--path', APP_PATH];
  const opened = await sf.run<{ url?: string }>(
    options.open ? openArgs : [...openArgs, '--url-only']
  );
  if (opened.status !== 0)
    throw new OrgSetupError(`Could not open the org: ${opened.message ?? 'unknown error'}`);
  log(`Ready: ${opened.result?.url ?? `${org.instanceUrl ?? ''}/${APP_PATH}`}`);
}

async function ensureScratchOrg(
  options: OrgSetupOptions,
  deps: OrgSetupDependencies
): Promise<OrgDisplayResult> {
  const { sf, log } = deps;
  const existing = await sf.run<OrgDisplayResult>([
    'org',
    'display',
    '--target-org',
    options.alias
  ]);
  if (existing.status === 0 && existing.result) {
    log(`Reusing scratch org ${options.alias} (${existing.result.username ?? 'unknown user'}).`);
    return existing.result;
  }

  const devHub = options.devHub ?? (await defaultDevHub(sf));
  if (!devHub) {
    throw new OrgSetupError(
      'No Dev Hub is authorized. Authorize one and make it the default, then run org:setup again:\n' +
        '  npx sf org login web --set-default-dev-hub --alias DevHub\n' +
        '(or pass --dev-hub <alias>). A Developer Edition org with Dev Hub enabled works.'
    );
  }
  log(`Creating scratch org ${options.alias} from ${devHub} for ${options.durationDays} days…`);
  const created = await sf.run([
    'org',
    'create',
    'scratch',
    '--definition-file',
    path.join('config', 'project-scratch-def.json'),
    '--alias',
    options.alias,
    '--duration-days',
    String(options.durationDays),
    '--target-dev-hub',
    devHub,
    '--set-default',
    '--wait',
    '20'
  ]);
  if (created.status !== 0) {
    throw new OrgSetupError(`Scratch org creation failed: ${created.message ?? 'unknown error'}`);
  }
  const displayed = await sf.run<OrgDisplayResult>([
    'org',
    'display',
    '--target-org',
    options.alias
  ]);
  if (displayed.status !== 0 || !displayed.result) {
    throw new OrgSetupError(
      `The new scratch org cannot be read: ${displayed.message ?? 'unknown error'}`
    );
  }
  return displayed.result;
}

async function defaultDevHub(sf: SfRunner): Promise<string | undefined> {
  const config = await sf.run<{ name: string; value?: string }[]>([
    'config',
    'get',
    'target-dev-hub'
  ]);
  return config.result?.find((entry) => entry.name === 'target-dev-hub')?.value || undefined;
}

/**
 * Every permission set in the project's package directories, so a pattern's own set is assigned as soon as the
 * pattern lands.
 */
export function findPermissionSets(projectRoot: string): string[] {
  const suffix = '.permissionset-meta.xml';
  return packageFiles(projectRoot, (file) => file.endsWith(suffix))
    .map((file) => path.basename(file, suffix))
    .sort();
}

interface AssignResult {
  readonly successes?: readonly { name: string; value: string }[];
  readonly failures?: readonly { name: string; message: string }[];
}

async function assignPermissionSets(
  alias: string,
  names: readonly string[],
  deps: OrgSetupDependencies
) {
  if (names.length === 0) return;
  const args = [
    'org',
    'assign',
    'permset',
    '--target-org',
    alias,
    ...names.flatMap((name) => ['--name', name])
  ];
  const assigned = await deps.sf.run<AssignResult>(args);
  // A re-run finds the sets already assigned; the CLI reports those as failures with a "Duplicate" message.
  const realFailures = (assigned.result?.failures ?? []).filter(
    (failure) => !/duplicate|already assigned/i.test(failure.message)
  );
  if (realFailures.length > 0 || (assigned.status !== 0 && !assigned.result)) {
    const details = realFailures
      .map((failure) => `  ${failure.name}: ${failure.message}`)
      .join('\n');
    throw new OrgSetupError(
      `Permission set assignment failed:\n${details || assigned.message || ''}`
    );
  }
  deps.log(`Permission sets assigned: ${names.join(', ')}.`);
}

interface BulkUpsertResult {
  readonly jobInfo?: {
    numberRecordsProcessed?: number;
    numberRecordsFailed?: number;
    state?: string;
  };
  readonly processedRecords?: number;
  readonly failedRecords?: number;
}

async function loadSampleData(alias: string, deps: OrgSetupDependencies): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'org-setup-'));
  try {
    for (const set of deps.sampleData()) {
      const file = path.join(folder, `${set.sobject}.csv`);
      await writeFile(file, toCsv(set.records), 'utf8');
      const upsert = await deps.sf.run<BulkUpsertResult>([
        'data',
        'upsert',
        'bulk',
        '--sobject',
        set.sobject,
        '--file',
        file,
        '--external-id',
        set.externalIdField,
        '--line-ending',
        'LF',
        '--target-org',
        alias,
        '--wait',
        '10'
      ]);
      const failed =
        upsert.result?.jobInfo?.numberRecordsFailed ?? upsert.result?.failedRecords ?? 0;
      if (upsert.status !== 0 || failed > 0) {
        throw new OrgSetupError(
          `Sample data upsert of ${set.sobject} failed (${failed} failed records): ${upsert.message ?? ''}\n` +
            `See the failed results with: npx sf data bulk results --target-org ${alias} --job-id <id>`
        );
      }
      deps.log(`Upserted ${set.records.length} ${set.sobject} records on ${set.externalIdField}.`);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function toConnection(org: OrgDisplayResult, alias: string): OrgConnection {
  if (!org.instanceUrl || !org.accessToken) {
    throw new OrgSetupError(`sf org display gave no instance URL or access token for ${alias}.`);
  }
  return {
    instanceUrl: org.instanceUrl,
    accessToken: org.accessToken,
    apiVersion: org.apiVersion ?? '67.0'
  };
}

interface DeployResult {
  readonly files?: readonly {
    fullName: string;
    type: string;
    state: string;
    error?: string;
    filePath?: string;
  }[];
  readonly details?: {
    readonly componentFailures?:
      | readonly { fullName: string; componentType: string; problem: string; lineNumber?: number }[]
      | { fullName: string; componentType: string; problem: string; lineNumber?: number };
  };
}

/** Lists the failing components of a deploy so the user sees what the org rejected and where. */
export function describeDeployFailure(deploy: SfJsonResult<DeployResult>): string {
  const failures = deploy.result?.details?.componentFailures;
  const list = failures === undefined ? [] : Array.isArray(failures) ? failures : [failures];
  const lines = list.map(
    (failure) =>
      `  ${failure.componentType} ${failure.fullName}${failure.lineNumber ? `:${failure.lineNumber}` : ''}: ${failure.problem}`
  );
  return lines.length > 0 ? lines.join('\n') : `  ${deploy.message ?? 'no details from the CLI'}`;
}
