/** Small statistics and formatting helpers for the benchmark report. */

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `min–max` of the values, rounded. */
export function range(values: readonly number[], digits = 0): string {
  if (values.length === 0) return '-';
  return `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;
}

/** A number with `digits` decimals and thousands separators. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Kilobytes (1,000 bytes) with one decimal. */
export function kb(bytes: number): string {
  return `${fmt(bytes / 1000, 1)} KB`;
}

/** A Markdown table. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** "met" / "MISSED" for a figure against its target. */
export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
