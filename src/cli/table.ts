/** A plain-text table: columns padded to their widest cell, a dashed rule under the header. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A ten-cell bar for a percentage: `███████░░░` for 70. */
export function bar(percent: number, cells: number = 10): string {
  const filled = Math.max(0, Math.min(cells, Math.round((percent / 100) * cells)));
  return '█'.repeat(filled) + '░'.repeat(cells - filled);
}
