/**
 * `DATA_VIRTUALIZATION_*` settings: defaults, the `.env.example` values, every bad value named at once, and the
 * page cache applied to the server's connection when the module registers.
 */
import { loadDataVirtualizationConfig } from '../../src/data-virtualization/config';
import { createShipmentDatabase, startServer } from './support';

describe('loadDataVirtualizationConfig', () => {
  it('defaults to a 64 MB page cache and no memory-mapped I/O', () => {
    expect(loadDataVirtualizationConfig({})).toEqual({ pageCacheMb: 64, mmapMb: 0 });
  });

  it('reads the .env.example values as written', () => {
    expect(
      loadDataVirtualizationConfig({
        DATA_VIRTUALIZATION_CACHE_MB: '256',
        DATA_VIRTUALIZATION_MMAP_MB: '4096'
      })
    ).toEqual({ pageCacheMb: 256, mmapMb: 4096 });
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadDataVirtualizationConfig({
        DATA_VIRTUALIZATION_CACHE_MB: '1',
        DATA_VIRTUALIZATION_MMAP_MB: 'lots'
      })
    ).toThrow(/DATA_VIRTUALIZATION_CACHE_MB[\s\S]*DATA_VIRTUALIZATION_MMAP_MB/);
  });
});

describe('the module sizes the connection from its configuration', () => {
  it('sets the page cache when it registers', async () => {
    const db = createShipmentDatabase(50);
    expect(db.pragma('cache_size', { simple: true })).not.toBe(-96 * 1024);
    const server = await startServer(db, { pageCacheMb: 96, mmapMb: 0 });
    try {
      expect(db.pragma('cache_size', { simple: true })).toBe(-96 * 1024);
    } finally {
      await server.close();
    }
  });
});
