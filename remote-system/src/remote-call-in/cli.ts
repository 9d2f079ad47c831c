import { ConfigError, loadConfig, loadEnvFile } from '../config';
import { openDatabase } from '../db';
import { createSalesforceAuth } from '../salesforce';
import { OrgCaller } from './caller';
import { loadRemoteCallInConfig } from './config';
import { ORDERS_PATH } from './orders';
import { formatSummary, runCallIn } from './run';

/**
 * `npm run call-in -- --orders 50 [--no-customers] [--prefix WEB-TEST]`: pushes N generated web-shop orders from
 * the ERP's database into the org (or anything that speaks the same contract, chosen only by the `SF_*` settings),
 * prints a summary, and exits 1 when any order was rejected or got no answer (2 on bad arguments or settings).
 */
export interface CliArgs {
  readonly orders: number;
  readonly customers: boolean;
  readonly prefix?: string;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  let orders = 10;
  let customers = true;
  let prefix: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--orders') {
      const value = argv[(i += 1)] ?? '';
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) {
        throw new Error(`--orders takes a whole number from 1 to 10000, got "${value}"`);
      }
      orders = Number(value);
    } else if (arg === '--no-customers') {
      customers = false;
    } else if (arg === '--prefix') {
      prefix = argv[(i += 1)];
      if (prefix === undefined || !/^[\w-]{1,20}$/.test(prefix)) {
        throw new Error('--prefix takes 1 to 20 letters, digits, - or _');
      }
    } else {
      throw new Error(`unknown argument "${arg}" (use --orders N, --no-customers, --prefix P)`);
    }
  }
  return { orders, customers, ...(prefix === undefined ? {} : { prefix }) };
}

export async function main(
  argv: readonly string[],
  out: (line: string) => void = console.log
): Promise<number> {
  let args: CliArgs;
  try {
    loadEnvFile();
    args = parseArgs(argv);
  } catch (error) {
    out(`call-in: ${(error as Error).message}`);
    return 2;
  }
  let appConfig;
  let callIn;
  try {
    appConfig = loadConfig();
    callIn = loadRemoteCallInConfig();
  } catch (error) {
    out(error instanceof ConfigError ? error.message : String(error));
    return 2;
  }
  if (appConfig.salesforce.mode === 'none') {
    out(
      'call-in: no Salesforce connection. Set SF_TARGET_ORG (sf CLI), SF_INSTANCE_URL + SF_ACCESS_TOKEN, or the ' +
        'OAuth settings SF_CLIENT_ID + SF_PRIVATE_KEY_FILE + SF_USERNAME / SF_CLIENT_SECRET (see .env.example).'
    );
    return 2;
  }
  const auth = createSalesforceAuth(appConfig.salesforce);
  const caller = new OrgCaller(auth, {
    ...callIn,
    onRetry: ({ attempt, delayMs, reason }) =>
      out(`  attempt ${attempt} failed (${reason}); retrying in ${delayMs} ms`)
  });
  const db = openDatabase(appConfig.databasePath);
  try {
    const target = `${(await auth.session()).instanceUrl}${ORDERS_PATH}`;
    const summary = await runCallIn(db, caller, {
      orders: args.orders,
      batchSize: callIn.batchSize,
      upsertCustomers: args.customers,
      ...(args.prefix === undefined ? {} : { prefix: args.prefix })
    });
    out(formatSummary(summary, target));
    return summary.ok ? 0 : 1;
  } catch (error) {
    out(`call-in: ${(error as Error).message}`);
    return 1;
  } finally {
    db.close();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
