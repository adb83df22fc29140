/**
 * Streams the rows of an import file in constant memory, each with the line (CSV: where the
 * record ends, header = line 1; NDJSON: its line; Parquet: 1-based row number) that the error
 * report names. A row the parser cannot read is yielded as an error, never aborting the file.
 *
 * @example
 *   for await (const r of readRows({ format: 'csv', file: 'orders.csv', delimiter: ';', encoding: 'latin1' }, parquet))
 *     if ('row' in r) use(r.row); else report(r.line, r.reason);
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';

export type Format = 'csv' | 'ndjson' | 'parquet';
export type Encoding = 'utf-8' | 'latin1';
export type RowItem = { line: number; row: unknown } | { line: number; reason: string };

export interface ReadOptions {
  format: Format;
  file: string;
  delimiter?: string;
  encoding?: Encoding;
  /** Rows already handled by an earlier run of the job: skipped, not yielded. */
  skip?: number;
}

/** Reads Parquet rows in pages; DuckDB's own reader, so no Parquet dependency. */
export type ParquetPager = (file: string, offset: number, limit: number) => Promise<Array<Record<string, unknown>>>;

const CANDIDATES = [';', ',', '\t', '|'];

/** The delimiter of a CSV file: the candidate found most often on its first line (outside quotes). */
export async function detectDelimiter(file: string, encoding: Encoding): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString(encoding === 'latin1' ? 'latin1' : 'utf8');
    const first = head.split(/\r?\n/, 1)[0]?.replace(/"[^"]*"/g, '') ?? '';
    let best = ',';
    let most = 0;
    for (const c of CANDIDATES) {
      const n = first.split(c).length - 1;
      if (n > most) { most = n; best = c; }
    }
    return best;
  } finally {
    await fh.close();
  }
}

export async function* readRows(opts: ReadOptions, parquet: ParquetPager): AsyncGenerator<RowItem> {
  const skip = opts.skip ?? 0;
  const encoding = opts.encoding === 'latin1' ? 'latin1' : 'utf8';
  if (opts.format === 'parquet') {
    const PAGE = 5_000;
    for (let offset = skip; ; offset += PAGE) {
      const rows = await parquet(opts.file, offset, PAGE);
      for (let i = 0; i < rows.length; i++) yield { line: offset + i + 1, row: rows[i] };
      if (rows.length < PAGE) return;
    }
  }
  if (opts.format === 'ndjson') {
    const lines = createInterface({ input: createReadStream(opts.file, { encoding }), crlfDelay: Infinity });
    let n = 0;
    let index = 0;
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      if (index++ < skip) continue;
      try {
        yield { line: n, row: JSON.parse(text) as unknown };
      } catch {
        yield { line: n, reason: 'not valid JSON' };
      }
    }
    return;
  }
  const delimiter = opts.delimiter ?? await detectDelimiter(opts.file, opts.encoding ?? 'utf-8');
  const skipped: RowItem[] = [];
  const parser = createReadStream(opts.file, { encoding }).pipe(parse({
    delimiter, columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true,
    max_record_size: 1024 * 1024, skip_records_with_error: true,
    on_skip: (err) => { if (err) skipped.push({ line: (err as { lines?: number }).lines ?? 0, reason: err.message.slice(0, 200) }); },
  }));
  let index = 0;
  for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    while (skipped.length > 0) yield skipped.shift() as RowItem;
    if (index++ < skip) continue;
    yield { line: rec.info.lines, row: rec.record };
  }
  while (skipped.length > 0) yield skipped.shift() as RowItem;
}
