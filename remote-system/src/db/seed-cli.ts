/**
 * `npm run seed -- [--shipments N] [--customers N] [--products N] [--orders N] [--database path]`
 * (Re)builds the ERP database with the deterministic demo data set and prints the load figures.
 */
import fs from 'node:fs';
import { DEFAULT_DATABASE_PATH, loadEnvFile } from '../config';
import { openDatabase } from './index';
import { seedDatabase, type SeedOptions } from './seed';

interface CliOptions {
  databasePath: string;
  seed: SeedOptions;
}

export function parseSeedArgs(argv: readonly string[], env = process.env): CliOptions {
  const numeric = new Map<string, keyof SeedOptions>([
    ['--shipments', 'shipments'],
    ['--customers', 'customers'],
    ['--products', 'products'],
    ['--orders', 'orders'],
    ['--seed', 'seed']
  ]);
  const seed: Record<string, number> = {};
  let databasePath = env.DATABASE_PATH?.trim() || DEFAULT_DATABASE_PATH;
  const envShipments = env.SEED_SHIPMENTS?.trim();
  if (envShipments) seed.shipments = toCount('SEED_SHIPMENTS', envShipments);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--database') databasePath = value;
    else if (numeric.has(flag)) seed[numeric.get(flag) as string] = toCount(flag, value);
    else throw new Error(`unknown option ${flag}`);
  }
  return { databasePath, seed: seed as SeedOptions };
}

function toCount(name: string, raw: string): number {
  const cleaned = raw.replace(/_/g, '');
  if (!/^\d+$/.test(cleaned)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number(cleaned);
}

function main(): void {
  loadEnvFile();
  const { databasePath, seed } = parseSeedArgs(process.argv.slice(2));
  const existed = databasePath !== ':memory:' && fs.existsSync(databasePath);
  console.log(`${existed ? 'Rebuilding' : 'Creating'} ${databasePath}`);
  const db = openDatabase(databasePath);
  try {
    let lastPrint = 0;
    const report = seedDatabase(db, {
      ...seed,
      reset: true,
      onProgress: (written, total) => {
        const now = Date.now();
        if (now - lastPrint > 5_000 || written === total) {
          lastPrint = now;
          console.log(
            `  shipments ${written.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`
          );
        }
      }
    });
    console.log(
      [
        `customers ${report.customers}, products ${report.products}, inventory ${report.inventory}`,
        `orders ${report.orders}, order lines ${report.orderLines}, invoices ${report.invoices}`,
        `shipments ${report.shipments.toLocaleString('en-US')} in ${(report.shipmentsMs / 1000).toFixed(1)} s ` +
          `(${report.shipmentRowsPerSecond.toLocaleString('en-US')} rows/s), indexes ${(report.indexMs / 1000).toFixed(1)} s`,
        `total ${(report.durationMs / 1000).toFixed(1)} s`
      ].join('\n')
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
