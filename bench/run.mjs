#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ against the compiled app and prints its figures.
// Each benchmark compares against a baseline measured in the same run and prints the ratio.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const directory = import.meta.dirname;
const benches = readdirSync(directory)
  .filter((file) => file.endsWith('.bench.mjs'))
  .filter((file) => !only || file.includes(only))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file}`);
  try {
    const bench = await import(join(directory, file));
    await bench.run();
  } catch (error) {
    failed += 1;
    console.error(`${file} failed:`, error);
  }
}
process.exit(failed > 0 ? 1 : 0);
