// The OneRoster fakes of the test suite (test/fakes/oneroster: FakeOneRosterServer, generateDistrict,
// writeOneRosterCsvZip) for benchmarks. `npm run build` compiles src and libs only (tsconfig.build.json), so
// the fakes are compiled here, on their own, into a temporary directory: the project's compiler options
// (extended from tsconfig.json), no type check (the test suite checks them), nothing written into the repo.
// `loadTestFakes` does the same for any other directory of test/fakes (powerschool-fakes.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');

/** Compiles and imports `test/fakes/oneroster/index.ts`; call `dispose()` when done to remove the build. */
export function loadOneRosterFakes() {
  return loadTestFakes('oneroster');
}

/**
 * Compiles and imports `test/fakes/<name>/index.ts` (with whatever it imports from sibling directories of
 * test/fakes); call `dispose()` when done to remove the build.
 */
export async function loadTestFakes(name) {
  const directory = mkdtempSync(join(tmpdir(), 'homeroom-bench-fakes-'));
  const outDir = join(directory, 'out');
  try {
    writeFileSync(
      join(directory, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          noCheck: true,
          declaration: false,
          sourceMap: false,
          rootDir: join(root, 'test/fakes'),
          outDir,
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: [join(root, `test/fakes/${name}/index.ts`)],
        include: [],
      }),
    );
    await new Promise((resolvePromise, reject) => {
      const tsc = spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', directory], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      tsc.once('error', reject);
      tsc.once('exit', (code) =>
        code === 0 ? resolvePromise() : reject(new Error(`compiling test/fakes/${name} failed (tsc exit ${code})`)),
      );
    });
    // ESM like the project, and the project's node_modules (yazl) reachable from the temporary directory.
    writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir');
    const fakes = await import(pathToFileURL(join(outDir, name, 'index.js')).href);
    return { fakes, dispose: () => rmSync(directory, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}
