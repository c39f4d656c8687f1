#!/usr/bin/env node
// Entry point for `npx homeroom`: runs the compiled CLI (build it once with `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('Homeroom is not built yet: run `npm run build` first.');
  process.exit(1);
}
await import(cli);
