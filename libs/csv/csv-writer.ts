export type CsvValue = string | number | boolean | null | undefined;

/** Leads a spreadsheet reads as the start of a formula (OWASP "CSV injection"): = + - @, tab, carriage return. */
const FORMULA_LEAD = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 cell, the only CSV cell writer of the app (exports of the audit trail, of disclosures, of sync run
 * issues). A value a spreadsheet would read as a formula gets a leading apostrophe, so opening an export never runs
 * anything; a value with a quote, comma, CR or LF is quoted, quotes doubled. Null and undefined are empty cells.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  const safe = FORMULA_LEAD.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV record with its CRLF line ending. */
export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
