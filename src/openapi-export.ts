import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { previewOpenApiDocument } from './openapi-preview.js';

/**
 * `node dist/src/openapi-export.js <file>`: writes the OpenAPI document (no database needed) and fails when a
 * request schema disagrees with its validators or an error response is not a problem document.
 */
async function main(): Promise<void> {
  const [out] = process.argv.slice(2);
  if (!out) throw new Error('Usage: node dist/src/openapi-export.js <output.json>');
  const { document, report } = await previewOpenApiDocument();
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  for (const mismatch of report.mismatches) console.error(`openapi: ${mismatch}`);
  process.exitCode = report.mismatches.length > 0 ? 1 : 0;
}

main().then(
  // A preview app holds nothing open that needs closing, but Nest's module graph keeps timers from some modules.
  () => process.exit(),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
