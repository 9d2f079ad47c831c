/**
 * `npm run bench [-- <options>]`: the benchmarks. Without a pattern flag, Data Virtualization's
 * (`bench/data-virtualization.ts`, which documents its options); `--batch-sync` runs Batch Data Synchronization's
 * (`bench/batch-sync.ts`).
 */
import { main as batchSyncBench } from './batch-sync';
import { main as dataVirtualizationBench } from './data-virtualization';

async function main(): Promise<void> {
  if (process.argv[2] === '--batch-sync') {
    // Batch Data Synchronization: the Bulk API 2.0 loader against the stand-in (bench/batch-sync.ts).
    await batchSyncBench(process.argv.slice(3));
    return;
  }
  // Data Virtualization (also its `--serve` child mode, which earlier versions started through this file).
  await dataVirtualizationBench(process.argv.slice(2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
