/**
 * Plain aligned text tables and number formatting for benchmark output (pure).
 *
 * API:
 *   formatTable(headers: string[], rows: Cell[][], options?: { align?: ('left'|'right')[] }): string
 *       first column left-aligned, the others right-aligned unless `align` says otherwise;
 *       a dashed rule under the header; no trailing spaces
 *   fmtInt(n)     -> "12,345"        fmtMs(n)     -> "0.412 ms" / "12.3 ms"
 *   fmtDeltaMs(n) -> "+0.212 ms"     fmtMB(bytes) -> "87.4 MB"
 *   fmtRatio(n)   -> "7.52x"         fmtPercent(n) -> "81%"
 * Every formatter prints "n/a" for NaN/undefined.
 */

export type Cell = string | number | undefined;

export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  options: { align?: readonly ('left' | 'right')[] } = {},
): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((header, i) => Math.max(header.length, ...text.map((row) => row[i].length)));
  const alignOf = (i: number): 'left' | 'right' => options.align?.[i] ?? (i === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (alignOf(i) === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

function cellText(cell: Cell): string {
  if (cell === undefined) return 'n/a';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : 'n/a';
  return cell;
}

const missing = (n: number | undefined): n is undefined => n === undefined || !Number.isFinite(n);

export function fmtInt(n: number | undefined): string {
  return missing(n) ? 'n/a' : Math.round(n).toLocaleString('en-US');
}

export function fmtMs(n: number | undefined): string {
  if (missing(n)) return 'n/a';
  const abs = Math.abs(n);
  const digits = abs < 10 ? 3 : abs < 100 ? 2 : 1;
  return `${n.toFixed(digits)} ms`;
}

export function fmtDeltaMs(n: number | undefined): string {
  if (missing(n)) return 'n/a';
  return `${n >= 0 ? '+' : ''}${fmtMs(n)}`;
}

export function fmtMB(bytes: number | undefined): string {
  return missing(bytes) ? 'n/a' : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function fmtRatio(n: number | undefined): string {
  return missing(n) ? 'n/a' : `${n.toFixed(2)}x`;
}

export function fmtPercent(n: number | undefined): string {
  return missing(n) ? 'n/a' : `${Math.round(n * 100)}%`;
}
