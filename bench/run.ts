/**
 * `npm run bench [-- <pattern flag> <options>]`: the benchmarks, figures written to `bench/results/`. Without a
 * pattern flag, Data Virtualization's (`bench/data-virtualization.ts`, which documents its options, also its
 * `--serve` child mode); each other pattern's bench file documents its own options.
 */
import { main as batchSyncBench } from './batch-sync';
import { main as dataVirtualizationBench } from './data-virtualization';
import { main as dataVirtualizationCheck } from './data-virtualization-check';
import { main as dataVirtualizationFixedCostBench } from './data-virtualization-fixed-cost';
import { main as fireAndForgetBench } from './fire-and-forget';
import { main as uiUpdateBench } from './ui-update';

const BENCHES: Readonly<Record<string, (argv: readonly string[]) => Promise<void>>> = {
  // Batch Data Synchronization: the Bulk API 2.0 loader against the stand-in.
  '--batch-sync': batchSyncBench,
  // Data Virtualization: where a key lookup's server CPU goes, layer by layer.
  '--data-virtualization-fixed-cost': dataVirtualizationFixedCostBench,
  // Data Virtualization: every benchmark shape's page and count against plain SQL, at the benchmark's sizes.
  '--data-virtualization-check': dataVirtualizationCheck,
  // Fire and Forget: events/s end to end through the local Pub/Sub API, durable checkpoints, idempotent invoices.
  '--fire-and-forget': fireAndForgetBench,
  // UI Update: publishing throughput through the local Pub/Sub API.
  '--ui-update': uiUpdateBench
};

async function main(): Promise<void> {
  const flag = process.argv[2] ?? '';
  const bench = BENCHES[flag];
  if (bench) await bench(process.argv.slice(3));
  else await dataVirtualizationBench(process.argv.slice(2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
