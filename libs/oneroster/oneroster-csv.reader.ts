import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import {
  MANIFEST_FILE_NAMES,
  ONEROSTER_CSV_COLUMNS,
  ONEROSTER_CSV_FILES,
  isOneRosterCsvFile,
  type OneRosterCsvFile,
} from './oneroster-csv.columns.js';
import { OneRosterError } from './oneroster.error.js';
import { isOneRosterVersion, type OneRosterVersion } from './oneroster-version.js';

export type OneRosterFileMode = 'bulk' | 'delta' | 'absent';

/** Guards against zip bombs and absurd packages. */
export interface OneRosterCsvLimits {
  /** Entries in the zip, ignored ones included. */
  maxEntries: number;
  /** Sum of the declared sizes of the files read (yauzl fails an entry that inflates past its declared size). */
  maxTotalUncompressedBytes: number;
  /** Uncompressed ÷ compressed size of one file. */
  maxCompressionRatio: number;
  /** Files smaller than this skip the ratio check: small repetitive files compress very well and are harmless. */
  ratioCheckMinBytes: number;
  /**
   * Characters of one record (row), quoted fields included: a longer one fails the file instead of being held in
   * memory, so memory stays bounded whatever a package holds within the other limits.
   */
  maxRecordBytes: number;
}

export const DEFAULT_ONEROSTER_CSV_LIMITS: Readonly<OneRosterCsvLimits> = {
  maxEntries: 1_000,
  maxTotalUncompressedBytes: 2 * 1024 ** 3,
  maxCompressionRatio: 100,
  ratioCheckMinBytes: 1024 ** 2,
  maxRecordBytes: 1024 ** 2,
};

export interface OneRosterCsvRow {
  /** 1-based physical line where the row ends (the header is line 1). */
  line: number;
  /** Cell values by column name, `metadata.*` columns included. */
  values: Readonly<Record<string, string>>;
}

/**
 * A row the reader skipped (wrong field count, missing delta lifecycle field, not UTF-8), or, with `severity:
 * 'warning'`, something it tolerated and kept (empty fields beyond the header, counted once per file).
 */
export interface OneRosterCsvRowIssue {
  file: string;
  /** The row's line; for a warning about several rows, the first of them. */
  line: number;
  /** The row's sourcedId when its fields could be told apart. */
  sourcedId: string | null;
  field: string | null;
  message: string;
  /** Absent for a skipped row (an error); `warning` when nothing was skipped. */
  severity?: 'error' | 'warning';
}

export interface OneRosterCsvRowsOptions {
  batchSize?: number;
  onIssue?: (issue: OneRosterCsvRowIssue) => void;
}

export interface OneRosterCsvPackage {
  readonly version: OneRosterVersion;
  /** The mode of every rostering file this library reads; files the manifest omits are `absent`. */
  readonly files: Readonly<Record<OneRosterCsvFile, OneRosterFileMode>>;
  /** The manifest as read (`propertyName` → `value`). */
  readonly manifest: Readonly<Record<string, string>>;
  /** The data rows of a present file in batches, header validated. */
  rows(file: OneRosterCsvFile, options?: OneRosterCsvRowsOptions): AsyncGenerator<OneRosterCsvRow[]>;
  close(): Promise<void>;
}

export interface OpenOneRosterCsvZipOptions {
  limits?: Partial<OneRosterCsvLimits>;
}

const MANIFEST = 'manifest.csv';
const METADATA_PREFIX = 'metadata.';

/**
 * Opens a OneRoster CSV package (a zip with `manifest.csv` and the data files at its root) and validates its
 * structure up front: manifest, version, file modes, present files, headers and size limits. Past a readable
 * manifest, every structural problem is found before failing (`OneRosterError.problems`), so one upload reports
 * them all. Rows are then streamed on demand, so memory stays flat whatever the package size.
 */
export async function openOneRosterCsvZip(
  path: string,
  options: OpenOneRosterCsvZipOptions = {},
): Promise<OneRosterCsvPackage> {
  const limits = { ...DEFAULT_ONEROSTER_CSV_LIMITS, ...options.limits };
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
      decodeStrings: true,
      strictFileNames: false,
    });
  } catch (error) {
    throw invalid(`The file is not a readable zip archive (${messageOf(error)})`, {}, error);
  }
  try {
    const csvPackage = new ZipOneRosterCsvPackage(zip, limits.maxRecordBytes);
    await csvPackage.load(limits);
    return csvPackage;
  } catch (error) {
    zip.close();
    throw error;
  }
}

class ZipOneRosterCsvPackage implements OneRosterCsvPackage {
  version!: OneRosterVersion;
  files!: Record<OneRosterCsvFile, OneRosterFileMode>;
  manifest!: Record<string, string>;
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly zip: ZipFile,
    private readonly maxRecordBytes: number,
  ) {}

  async load(limits: OneRosterCsvLimits): Promise<void> {
    if (this.zip.entryCount > limits.maxEntries) {
      throw invalid(`The zip holds ${this.zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
    }
    const nestedManifests: string[] = [];
    try {
      for await (const entry of this.zip.eachEntry()) {
        const name = entry.fileName;
        if (name.endsWith('/') || name.startsWith('__MACOSX/')) continue;
        if (name.includes('/')) {
          if (name.endsWith(`/${MANIFEST}`)) nestedManifests.push(name);
          continue;
        }
        if (this.entries.has(name)) throw invalid(`The zip holds ${name} twice`, { file: name });
        this.entries.set(name, entry);
      }
    } catch (error) {
      if (error instanceof OneRosterError) throw error;
      throw invalid(`The zip archive is damaged (${messageOf(error)})`, {}, error);
    }

    const manifestEntry = this.entries.get(MANIFEST);
    if (!manifestEntry) {
      if (nestedManifests.length > 0) {
        throw invalid(
          `manifest.csv is inside a folder (${nestedManifests[0]}): OneRoster files must be at the root of the zip, not in a folder`,
          { file: MANIFEST },
        );
      }
      throw invalid('The zip has no manifest.csv at its root: it is not a OneRoster CSV package', { file: MANIFEST });
    }
    this.checkEntry(MANIFEST, manifestEntry, limits);
    // Past this point every problem is collected, and the package fails with all of them: one upload tells the
    // district everything to fix in its structure (manifest values, missing files, headers).
    const problems: OneRosterError[] = [];
    const collect = async (check: () => void | Promise<void>): Promise<boolean> => {
      try {
        await check();
        return true;
      } catch (error) {
        if (!(error instanceof OneRosterError)) throw error;
        problems.push(error);
        return false;
      }
    };
    const { version, invalidModes } = await this.readManifest(manifestEntry, problems);
    if (version === undefined) throw structuralFailure(problems);
    this.version = version;

    // A file whose mode is not valid is still checked when the zip holds it: its header may need fixing too.
    const toCheck = ONEROSTER_CSV_FILES.filter(
      (file) => this.files[file] !== 'absent' || (invalidModes.has(file) && this.entries.has(`${file}.csv`)),
    );
    const readable: OneRosterCsvFile[] = [];
    let totalBytes = manifestEntry.uncompressedSize;
    for (const file of toCheck) {
      const fileName = `${file}.csv`;
      const entry = this.entries.get(fileName);
      if (!entry) {
        problems.push(
          invalid(`The manifest lists ${fileName} as ${this.files[file]} but the zip has no ${fileName} at its root`, {
            file: fileName,
          }),
        );
        continue;
      }
      if (!(await collect(() => this.checkEntry(fileName, entry, limits)))) continue;
      totalBytes += entry.uncompressedSize;
      if (totalBytes > limits.maxTotalUncompressedBytes) {
        // A guard against absurd packages: nothing more of this one is read.
        problems.push(
          invalid(`The package would inflate past the limit of ${limits.maxTotalUncompressedBytes} bytes`, {
            file: fileName,
          }),
        );
        throw structuralFailure(problems);
      }
      readable.push(file);
    }
    for (const file of readable) await collect(() => this.readHeader(file));
    if (problems.length > 0) throw structuralFailure(problems);
  }

  async *rows(file: OneRosterCsvFile, options: OneRosterCsvRowsOptions = {}): AsyncGenerator<OneRosterCsvRow[]> {
    if (this.files[file] === 'absent')
      throw invalid(`${file}.csv is absent from this package`, { file: `${file}.csv` });
    const fileName = `${file}.csv`;
    const batchSize = Math.max(1, options.batchSize ?? 500);
    const mode = this.files[file];
    const report = (line: number, field: string | null, message: string, sourcedId: string | null = null) =>
      options.onIssue?.({ file: fileName, line, sourcedId, field, message });
    let header: string[] | undefined;
    let batch: OneRosterCsvRow[] = [];
    // Rows with empty fields beyond the header (a trailing comma some exports write): kept, and counted.
    let padded = 0;
    let firstPaddedLine = 0;
    for await (const { record, line } of this.records(fileName)) {
      if (header === undefined) {
        header = this.validatedHeader(file, record);
        continue;
      }
      if (record.length !== header.length) {
        const extraFilled = record.length > header.length && !extraFieldsEmpty(record, header.length);
        if (record.length < header.length || extraFilled) {
          // The first column is the sourcedId: the row is present even when its other fields cannot be told apart.
          report(
            line,
            null,
            `The row has ${record.length} fields but the header has ${header.length}` +
              (extraFilled ? ', and the fields beyond the header are not empty' : ''),
            sourcedIdOf({ sourcedId: record[0] ?? '' }),
          );
          continue;
        }
        if (padded++ === 0) firstPaddedLine = line;
      }
      const values: Record<string, string> = {};
      header.forEach((column, index) => {
        values[column] = record[index];
      });
      const undecodable = header.find((column) => values[column].includes('\uFFFD'));
      if (undecodable !== undefined) {
        report(line, undecodable, 'The value is not valid UTF-8', sourcedIdOf(values));
        continue;
      }
      if (mode === 'delta') {
        const missing = (['status', 'dateLastModified'] as const).find((column) => values[column].trim() === '');
        if (missing !== undefined) {
          report(line, missing, `${missing} is required in a delta file`, sourcedIdOf(values));
          continue;
        }
      }
      batch.push({ line, values });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (padded > 0) {
      options.onIssue?.({
        file: fileName,
        line: firstPaddedLine,
        sourcedId: null,
        field: null,
        severity: 'warning',
        message:
          `${padded} ${padded === 1 ? 'row has' : 'rows have'} empty fields beyond the ${header!.length} columns of ` +
          `the header (the first at line ${firstPaddedLine}); the empty fields were ignored and the ` +
          `${padded === 1 ? 'row' : 'rows'} kept`,
      });
    }
    if (batch.length > 0) yield batch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zip.close();
  }

  private checkEntry(fileName: string, entry: Entry, limits: OneRosterCsvLimits): void {
    if (entry.isEncrypted()) throw invalid(`${fileName} is encrypted`, { file: fileName });
    if (!entry.canDecodeFileData()) {
      throw invalid(`${fileName} uses an unsupported compression method (${entry.compressionMethod})`, {
        file: fileName,
      });
    }
    const size = entry.uncompressedSize;
    if (size > limits.maxTotalUncompressedBytes) {
      throw invalid(
        `${fileName} would inflate to ${size} bytes, past the limit of ${limits.maxTotalUncompressedBytes} bytes`,
        {
          file: fileName,
        },
      );
    }
    const ratio = size / Math.max(1, entry.compressedSize);
    if (size >= limits.ratioCheckMinBytes && ratio > limits.maxCompressionRatio) {
      throw invalid(
        `${fileName} has a compression ratio of ${Math.round(ratio)}:1, past the limit of ${limits.maxCompressionRatio}:1 (a possible zip bomb)`,
        { file: fileName },
      );
    }
  }

  /**
   * Reads the manifest. A header that is not `propertyName,value` or a file that cannot be parsed fails at once;
   * other problems are added to `problems` and reading goes on. The version is left unset when it is missing or
   * not supported (the headers cannot be checked without it).
   */
  private async readManifest(
    entry: Entry,
    problems: OneRosterError[],
  ): Promise<{ version: OneRosterVersion | undefined; invalidModes: ReadonlySet<OneRosterCsvFile> }> {
    const manifest: Record<string, string> = {};
    let headerSeen = false;
    for await (const { record, line } of this.records(MANIFEST, entry)) {
      if (!headerSeen) {
        headerSeen = true;
        if (record.length !== 2 || record[0] !== 'propertyName' || record[1] !== 'value') {
          throw invalid(`manifest.csv: the header must be "propertyName,value" but is "${record.join(',')}"`, {
            file: MANIFEST,
            line,
          });
        }
        continue;
      }
      if (record.length !== 2) {
        problems.push(
          invalid(`manifest.csv line ${line}: expected 2 fields, found ${record.length}`, { file: MANIFEST, line }),
        );
        continue;
      }
      const [property, value] = [record[0].trim(), record[1].trim()];
      if (Object.hasOwn(manifest, property)) {
        problems.push(
          invalid(`manifest.csv line ${line}: ${property} is listed twice`, {
            file: MANIFEST,
            line,
            field: property,
          }),
        );
        continue;
      }
      manifest[property] = value;
    }
    if (!headerSeen) throw invalid('manifest.csv is empty', { file: MANIFEST });

    const version = manifest['oneroster.version'];
    if (version === undefined) {
      problems.push(invalid('manifest.csv has no oneroster.version', { file: MANIFEST, field: 'oneroster.version' }));
    } else if (!isOneRosterVersion(version)) {
      problems.push(
        invalid(`manifest.csv: oneroster.version "${version}" is not supported (1.1 or 1.2)`, {
          file: MANIFEST,
          field: 'oneroster.version',
        }),
      );
    }
    const known = version !== undefined && isOneRosterVersion(version);
    const files = Object.fromEntries(ONEROSTER_CSV_FILES.map((file) => [file, 'absent'])) as Record<
      OneRosterCsvFile,
      OneRosterFileMode
    >;
    const invalidModes = new Set<OneRosterCsvFile>();
    // Without a known version, every file.* entry is checked: its mode is wrong whatever the version.
    const names = known
      ? MANIFEST_FILE_NAMES[version]
      : Object.keys(manifest)
          .filter((property) => property.startsWith('file.'))
          .map((property) => property.slice('file.'.length));
    for (const name of names) {
      const mode = manifest[`file.${name}`];
      if (mode === undefined) continue;
      if (mode !== 'bulk' && mode !== 'delta' && mode !== 'absent') {
        problems.push(
          invalid(`manifest.csv: file.${name} is "${mode}" but must be bulk, delta or absent`, {
            file: MANIFEST,
            field: `file.${name}`,
          }),
        );
        if (isOneRosterCsvFile(name)) invalidModes.add(name);
        continue;
      }
      if (isOneRosterCsvFile(name)) files[name] = mode;
    }
    this.files = files;
    this.manifest = manifest;
    return { version: known ? version : undefined, invalidModes };
  }

  private async readHeader(file: OneRosterCsvFile): Promise<void> {
    for await (const { record } of this.records(`${file}.csv`)) {
      this.validatedHeader(file, record);
      return;
    }
    throw invalid(`${file}.csv is empty: it needs at least its header row`, { file: `${file}.csv`, line: 1 });
  }

  private validatedHeader(file: OneRosterCsvFile, found: string[]): string[] {
    const expected = ONEROSTER_CSV_COLUMNS[this.version][file];
    const fileName = `${file}.csv`;
    if (expected === undefined) {
      throw invalid(`${fileName} is not part of OneRoster ${this.version}`, { file: fileName });
    }
    const problem = headerProblem(found, expected);
    if (problem !== null) {
      throw invalid(
        `${fileName}: the header does not match OneRoster ${this.version} (${problem.message}). ` +
          `Expected "${expected.join(',')}" (optionally followed by metadata.* columns), found "${found.join(',')}"`,
        { file: fileName, line: 1, field: problem.field },
      );
    }
    return found;
  }

  private async *records(fileName: string, knownEntry?: Entry): AsyncGenerator<{ record: string[]; line: number }> {
    const entry = knownEntry ?? this.entries.get(fileName);
    if (!entry) throw invalid(`The zip has no ${fileName}`, { file: fileName });
    let stream: Readable;
    try {
      stream = await this.zip.openReadStreamPromise(entry);
    } catch (error) {
      throw invalid(`${fileName} cannot be read from the zip (${messageOf(error)})`, { file: fileName }, error);
    }
    const parser = parse({
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      max_record_size: this.maxRecordBytes,
    });
    stream.on('error', (error: Error) => parser.destroy(error));
    stream.pipe(parser);
    try {
      for await (const chunk of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        yield { record: chunk.record, line: chunk.info.lines };
      }
    } catch (error) {
      if (error instanceof OneRosterError) throw error;
      const line = lineOf(error);
      throw invalid(
        `${fileName}${line === undefined ? '' : ` line ${line}`}: ${csvProblemOf(error, this.maxRecordBytes)}`,
        { file: fileName, line },
        error,
      );
    } finally {
      stream.destroy();
      parser.destroy();
    }
  }
}

/** The package's structural problems as one error: the only one as it is, or all of them counted. */
function structuralFailure(problems: readonly OneRosterError[]): OneRosterError {
  if (problems.length === 1) return problems[0];
  const files = [...new Set(problems.map((problem) => problem.file).filter((file) => file !== undefined))];
  return new OneRosterError(
    'SIS_SYNC.CSV_INVALID',
    `The package has ${problems.length} structural problems` +
      (files.length > 0 ? ` (in ${files.join(', ')})` : '') +
      ', each reported on its own; nothing was read from it',
    {},
    { problems: problems.flatMap((problem) => problem.problems) },
  );
}

function headerProblem(found: string[], expected: readonly string[]): { message: string; field: string } | null {
  for (let index = 0; index < expected.length; index++) {
    if (found[index] !== expected[index]) {
      const actual = found[index] === undefined ? 'missing' : `"${found[index]}"`;
      return { message: `column ${index + 1} should be "${expected[index]}" but is ${actual}`, field: expected[index] };
    }
  }
  for (let index = expected.length; index < found.length; index++) {
    const column = found[index];
    if (!column.startsWith(METADATA_PREFIX) || column.length === METADATA_PREFIX.length) {
      return {
        message: `column ${index + 1} "${column}" is not a spec column and not named metadata.*`,
        field: column,
      };
    }
  }
  return null;
}

/** True when every field past the header's columns is blank (`a,b,` or `a,b,,""` under a two-column header). */
function extraFieldsEmpty(record: readonly string[], columns: number): boolean {
  for (let index = columns; index < record.length; index++) if (record[index].trim() !== '') return false;
  return true;
}

function sourcedIdOf(values: Record<string, string>): string | null {
  const sourcedId = values.sourcedId.trim();
  return sourcedId === '' || sourcedId.includes('\uFFFD') ? null : sourcedId;
}

function invalid(
  message: string,
  details: { file?: string; line?: number; field?: string } = {},
  cause?: unknown,
): OneRosterError {
  return new OneRosterError('SIS_SYNC.CSV_INVALID', message, details, cause === undefined ? undefined : { cause });
}

function lineOf(error: unknown): number | undefined {
  const lines = (error as { lines?: unknown }).lines;
  return typeof lines === 'number' ? lines : undefined;
}

/** csv-parse's reason without the row content it sometimes quotes (rows hold student data). */
function csvProblemOf(error: unknown, maxRecordBytes: number): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a closing quote is followed by other characters (quotes inside a field must be doubled)';
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return 'the row has the wrong number of fields';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record is longer than the limit of ${maxRecordBytes} characters (a quote never closed, or a field too large to be data)`;
    default:
      return typeof code === 'string' ? `invalid CSV (${code})` : `the file cannot be read (${messageOf(error)})`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
