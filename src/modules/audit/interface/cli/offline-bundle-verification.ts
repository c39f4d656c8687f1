import { auditPublicKeyFrom, pemBlocks, verifyBundle } from '@app/audit-chain';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { reportVerification } from './verification-report.js';

const USAGE = 'Usage: homeroom audit verify --bundle <dir> --public-key <file> [--public-key <file>…] [--json]';

/**
 * `homeroom audit verify --bundle DIR --public-key FILE`: verifies an exported bundle with nothing but the
 * files, so an auditor can run it anywhere. It is handled before the CLI prepares configuration or a database
 * (see `src/cli.ts`). Returns the exit code (0 ok, 1 the bundle failed, 2 usage), or undefined when the
 * arguments are not an offline verification.
 */
export async function runOfflineAuditCommand(
  argv: readonly string[],
  print: (line: string) => void = (line) => console.log(line),
  printError: (line: string) => void = (line) => console.error(line),
): Promise<number | undefined> {
  if (argv[0] !== 'audit' || argv[1] !== 'verify') return undefined;
  const rest = argv.slice(2);
  if (!rest.some((arg) => arg === '--bundle' || arg.startsWith('--bundle='))) return undefined;
  let values: { bundle?: string; 'public-key'?: string[]; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        bundle: { type: 'string' },
        'public-key': { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    printError(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const keyFiles = values['public-key'] ?? [];
  if (!values.bundle || keyFiles.length === 0) {
    printError(
      `${USAGE}\nThe public key must come from outside the bundle (GET /api/v1/audit/public-key, or the district's ` +
        'copy): a key shipped inside it would vouch for whoever altered it.',
    );
    return 2;
  }
  let keys: string[];
  try {
    keys = (await Promise.all(keyFiles.map((file) => publicKeysIn(file)))).flat();
  } catch (error) {
    printError((error as Error).message);
    return 2;
  }
  const result = await verifyBundle(values.bundle, keys);
  return reportVerification(result, { json: values.json, subject: `Audit bundle ${values.bundle}` }, print);
}

/** PEM blocks, or the JSON of GET /api/v1/audit/public-key (or a bundle's public-keys.json, if you trust it). */
async function publicKeysIn(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`Cannot read the public key file ${file}: ${code}`, { cause: error });
  }
  let keys = pemBlocks(text);
  if (keys.length === 0 && /^\s*[[{]/.test(text)) {
    try {
      const parsed = JSON.parse(text) as { keys?: { publicKeyPem?: unknown }[] } | { publicKeyPem?: unknown }[];
      const list = Array.isArray(parsed) ? parsed : (parsed.keys ?? []);
      keys = list.map((key) => key.publicKeyPem).filter((pem): pem is string => typeof pem === 'string');
    } catch {
      keys = [];
    }
  }
  if (keys.length === 0) throw new Error(`No Ed25519 public key (PEM) found in ${file}`);
  for (const key of keys) {
    try {
      auditPublicKeyFrom(key);
    } catch {
      throw new Error(`${file} holds a key that is not an Ed25519 public key`);
    }
  }
  return keys;
}
