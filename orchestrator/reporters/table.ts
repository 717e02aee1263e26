/** A plain text table: columns padded to their widest cell, narrowed to a width where one is given. */

/** How a table may be narrowed: to `width` columns, by cutting the cells of the `shrink` columns. */
export interface TableFit {
  /** The terminal's width; absent: no limit (a pipe, a log, a file). */
  width?: number | undefined;
  /** Indexes of the columns that may be cut, with "…" (paths keep their end, other text its start). */
  shrink: readonly number[];
}

/** The narrowest a cut column gets: enough to recognise what it holds. */
const MIN_WIDTH = 12;

/** The width the table takes once narrowed as far as `fit` allows. */
export function tableWidth(header: readonly string[], rows: readonly (readonly string[])[], fit?: TableFit): number {
  return columnWidths(header, rows, fit).reduce((a, b) => a + b, 0) + 2 * (header.length - 1);
}

function columnWidths(header: readonly string[], rows: readonly (readonly string[])[], fit?: TableFit): number[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  if (fit?.width) narrow(widths, header, fit.width, fit.shrink);
  return widths;
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], fit?: TableFit): string {
  const widths = columnWidths(header, rows, fit);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => {
        const cut = cutTo(c, widths[i]!);
        return i === cells.length - 1 ? cut : cut.padEnd(widths[i]!);
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Takes the excess from the widest shrinkable columns, never below MIN_WIDTH (or the header). */
function narrow(widths: number[], header: readonly string[], width: number, shrink: readonly number[]): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    const floor = (i: number) => Math.max(MIN_WIDTH, header[i]!.length);
    const candidates = shrink.filter((i) => widths[i]! > floor(i));
    if (candidates.length === 0) return;
    // One character at a time from the widest: the cut is shared out, no column emptied first.
    const widest = candidates.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    widths[widest]!--;
  }
}

/** A cell cut to `w` characters: a path keeps its end (the file name), other text its start. */
export function cutTo(cell: string, w: number): string {
  if (cell.length <= w) return cell;
  return cell.startsWith("/") ? "…" + cell.slice(cell.length - w + 1) : cell.slice(0, w - 1) + "…";
}

/** The width a table printed to `stream` may take: its columns on a terminal, `$COLUMNS` if set, else none. */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stream.isTTY && stream.columns ? stream.columns : undefined;
}
