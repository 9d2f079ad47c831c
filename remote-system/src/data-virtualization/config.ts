import { EnvReader, type Env } from '../config';

/** Data Virtualization's settings (`DATA_VIRTUALIZATION_*` in `.env`). */
export interface DataVirtualizationConfig {
  /**
   * SQLite page cache of the server's connection, in MB (`DATA_VIRTUALIZATION_CACHE_MB`, default 64; SQLite's own
   * default is 2). The pages of the indexes a deep `$skip` walks stay in memory between requests; the cost is at
   * most this much more heap-side RSS. A 1 GB cache bought nothing measurable at 10M shipments (a request's first
   * visit to a page reads it from the disk whatever the cache's size), so the default stays small: see
   * `docs/data-virtualization-performance.md`, the eighteenth pass.
   */
  readonly pageCacheMb: number;
  /**
   * Memory-mapped I/O for the database file, in MB (`DATA_VIRTUALIZATION_MMAP_MB`, default 0 = off): reads map the
   * file instead of copying pages through `pread`. Mapped pages count as (reclaimable, file-backed) RSS; an I/O
   * error on a mapped page is a crash instead of an error code, which is why it is off unless asked for.
   */
  readonly mmapMb: number;
}

export function loadDataVirtualizationConfig(env: Env = process.env): DataVirtualizationConfig {
  const reader = new EnvReader(env);
  const config: DataVirtualizationConfig = {
    pageCacheMb: reader.integer('DATA_VIRTUALIZATION_CACHE_MB', 64, 2, 65_536),
    mmapMb: reader.integer('DATA_VIRTUALIZATION_MMAP_MB', 0, 0, 1_048_576)
  };
  reader.throwIfInvalid();
  return config;
}
