import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';

/**
 * Shared by the benchmarks that run the code under test and its stand-in in child processes: the lines a child
 * prints on stdout (its figures), collected as they arrive, and its exit code.
 */
export function collect(child: ChildProcess): { lines: string[]; exited: Promise<number | null> } {
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (data: Buffer) => {
    buffer += data.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { lines, exited };
}

/** The 1-, 5- and 15-minute load averages, two decimals: written next to every figure. */
export const loadAverage = (): number[] => os.loadavg().map((v) => Number(v.toFixed(2)));

/**
 * Writes a results file through the project's Prettier config, so that `npm test`'s format check accepts the committed
 * results as they are generated.
 */
export async function writeFormatted(filepath: string, text: string): Promise<void> {
  fs.mkdirSync(path.dirname(filepath), { recursive: true });
  const config = (await prettier.resolveConfig(filepath)) ?? {};
  fs.writeFileSync(filepath, await prettier.format(text, { ...config, filepath }));
}
