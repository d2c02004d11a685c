/** The one table formatter of `parley load` reports and the benchmarks: box-drawn, aligned columns. Pure. */

/**
 * A table of `rows` under `head`.
 * @param leftAligned columns padded on the right (text); the rest are right-aligned (numbers). Default: the first.
 */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[], leftAligned: readonly number[] = [0]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (l: string, m: string, r: string): string => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const row = (cells: readonly string[]): string =>
    `│${widths.map((w, c) => ` ${leftAligned.includes(c) ? (cells[c] ?? '').padEnd(w) : (cells[c] ?? '').padStart(w)} `).join('│')}│`;
  return [line('┌', '┬', '┐'), row(head), line('├', '┼', '┤'), ...rows.map(row), line('└', '┴', '┘')].join('\n');
}
