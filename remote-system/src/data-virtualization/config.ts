import { EnvReader, type Env } from '../config';

/** Data Virtualization's settings (`DATA_VIRTUALIZATION_*` in `.env`). */
export interface DataVirtualizationConfig {
  /**
   * SQLite page cache of the server's connection, in MB (`DATA_VIRTUALIZATION_CACHE_MB`, default 1024; SQLite's own
   * default is 2). It holds the pages the producer has read: the interior pages of every index (about 170 MB at 10M
   * shipments) and the hottest leaves. It is the process's own memory, so it stays when the operating system drops
   * file pages it has not seen used for a while (a kernel's proactive reclaim, a container's memory limit): then a
   * request reads from the disk only the rows it is the first to need. The cost is RSS, up to this much and never
   * more than the database file.
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
    pageCacheMb: reader.integer('DATA_VIRTUALIZATION_CACHE_MB', 1024, 2, 65_536),
    mmapMb: reader.integer('DATA_VIRTUALIZATION_MMAP_MB', 0, 0, 1_048_576)
  };
  reader.throwIfInvalid();
  return config;
}
