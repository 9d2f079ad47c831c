/** A value Bulk API 2.0 can take in a CSV cell. `null` clears the field (`#N/A`). */
export type CsvValue = string | number | boolean | null;

/** One CSV row: field API name → value. */
export type CsvRow = Readonly<Record<string, CsvValue>>;

/**
 * Views records of any interface whose every property is a {@link CsvValue} as CSV rows (interfaces have no
 * implicit index signature, so TypeScript needs this one checked conversion).
 */
export function asCsvRows<T extends { readonly [K in keyof T]: CsvValue }>(
  records: readonly T[]
): CsvRow[] {
  return records as readonly object[] as CsvRow[];
}

/**
 * Writes rows as RFC 4180 CSV for Bulk API 2.0: header from the first row's keys, every row must have the same
 * keys, LF line endings, cells quoted when they contain a comma, quote or line break.
 */
export function toCsv(rows: readonly CsvRow[]): string {
  const first = rows[0];
  if (!first) throw new Error('no rows to write');
  const columns = Object.keys(first);
  const lines = [columns.map(quoteCell).join(',')];
  rows.forEach((row, index) => {
    const keys = Object.keys(row);
    if (keys.length !== columns.length || keys.some((key) => !columns.includes(key))) {
      throw new Error(
        `row ${index + 1} has columns ${keys.join(',')}, expected ${columns.join(',')}`
      );
    }
    lines.push(columns.map((column) => quoteCell(formatValue(row[column] ?? null))).join(','));
  });
  return `${lines.join('\n')}\n`;
}

function formatValue(value: CsvValue): string {
  if (value === null) return '#N/A';
  return typeof value === 'string' ? value : String(value);
}

function quoteCell(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
