/**
 * A minimal reader of ZIP archives (a `.jar` is one): the central directory, then each wanted entry inflated with
 * node:zlib. Enough to read the class files apexlink ships; no ZIP64, no encryption (a jar uses neither).
 */
import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Compression method: 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/** The entries of a ZIP archive read into memory; throws when the data is not a ZIP archive this reader knows. */
export class ZipArchive {
  readonly entries: ZipEntry[] = [];

  constructor(private readonly data: Buffer) {
    const eocd = findEndOfCentralDirectory(data);
    const count = data.readUInt16LE(eocd + 10);
    let offset = data.readUInt32LE(eocd + 16);
    for (let i = 0; i < count; i++) {
      if (data.readUInt32LE(offset) !== 0x02014b50)
        throw new Error(`zip: bad central directory entry at ${offset}`);
      const method = data.readUInt16LE(offset + 10);
      const compressedSize = data.readUInt32LE(offset + 20);
      const nameLength = data.readUInt16LE(offset + 28);
      const extraLength = data.readUInt16LE(offset + 30);
      const commentLength = data.readUInt16LE(offset + 32);
      const localHeaderOffset = data.readUInt32LE(offset + 42);
      const name = data.toString('utf8', offset + 46, offset + 46 + nameLength);
      this.entries.push({ name, method, compressedSize, localHeaderOffset });
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  static open(file: string): ZipArchive {
    return new ZipArchive(fs.readFileSync(file));
  }

  /** The uncompressed bytes of an entry. */
  read(entry: ZipEntry): Buffer {
    const at = entry.localHeaderOffset;
    if (this.data.readUInt32LE(at) !== 0x04034b50)
      throw new Error(`zip: bad local header for ${entry.name}`);
    const start = at + 30 + this.data.readUInt16LE(at + 26) + this.data.readUInt16LE(at + 28);
    const raw = this.data.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return Buffer.from(raw);
    if (entry.method === 8) return inflateRawSync(raw);
    throw new Error(`zip: unsupported compression method ${entry.method} for ${entry.name}`);
  }
}

function findEndOfCentralDirectory(data: Buffer): number {
  // the record is 22 bytes plus a comment of at most 65535 bytes, at the very end
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) return i;
  }
  throw new Error('zip: no end of central directory record (not a ZIP archive?)');
}
