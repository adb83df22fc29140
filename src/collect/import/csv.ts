/**
 * Reads an uploaded CSV file into rows keyed by header, the same way for every import (CRM
 * records, static segment lists): BOM and blank lines ignored, cells trimmed, short rows allowed.
 * Unreadable CSV is refused as a whole (IMPORT_INVALID) before anything is stored.
 */
import { parse } from 'csv-parse/sync';
import { EnsembleError } from '../../protocol/errors.js';

export function readCsvRows(csv: string): Array<Record<string, string>> {
  try {
    return parse(csv, { columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, max_record_size: 64 * 1024 }) as Array<Record<string, string>>;
  } catch (err) {
    throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'The file is not readable CSV.', [{ path: '/csv', code: 'csv', message: err instanceof Error ? err.message.slice(0, 300) : 'unreadable' }]);
  }
}
