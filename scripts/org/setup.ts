/**
 * `npm run org:setup [-- --alias NAME --days N --dev-hub ALIAS --no-open]`
 * Creates or reuses a scratch org and makes the demo ready. Reads REMOTE_SYSTEM_URL and ERP_SHARED_SECRET from
 * the environment.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSfCliRunner } from './sf-runner';
import { ERP_CREDENTIAL_TARGET, storeCredentialSecret } from './connect-credentials';
import { OrgSetupError, setUpScratchOrg, type OrgSetupOptions } from './org-setup';
import { buildSampleDataSets } from './sample-data';

export function parseSetupArguments(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  projectRoot: string
): OrgSetupOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      alias: { type: 'string', default: 'integration-patterns' },
      days: { type: 'string', default: '7' },
      'dev-hub': { type: 'string' },
      'no-open': { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: false
  });
  const durationDays = Number(values.days);
  if (!Number.isInteger(durationDays) || durationDays < 1 || durationDays > 30) {
    throw new OrgSetupError(`--days must be a whole number from 1 to 30 (got ${values.days}).`);
  }
  if (!values.alias || !/^[\w.-]+$/.test(values.alias)) {
    throw new OrgSetupError(
      `--alias may contain letters, digits, '.', '_' and '-' only (got ${values.alias}).`
    );
  }
  return {
    projectRoot,
    alias: values.alias,
    durationDays,
    devHub: values['dev-hub'],
    remoteSystemUrl: env.REMOTE_SYSTEM_URL || undefined,
    erpSharedSecret: env.ERP_SHARED_SECRET || undefined,
    open: !values['no-open'] && env.CI !== 'true'
  };
}

async function main(): Promise<void> {
  const projectRoot = path.resolve(__dirname, '..', '..');
  const options = parseSetupArguments(process.argv.slice(2), process.env, projectRoot);
  await setUpScratchOrg(options, {
    sf: createSfCliRunner(projectRoot),
    log: (line) => console.log(line),
    sampleData: buildSampleDataSets,
    storeSecret: (org, secret) => storeCredentialSecret(org, ERP_CREDENTIAL_TARGET, secret)
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof OrgSetupError ? error.message : error);
    process.exitCode = 1;
  });
}
