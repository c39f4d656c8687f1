// The PowerSchool fakes of the test suite (test/fakes/powerschool: FakePowerSchoolServer,
// generatePowerSchoolDistrict, expectedMirrorCounts) for benchmarks, compiled into a temporary directory the
// way oneroster-fakes.mjs compiles the OneRoster ones (the generator borrows SeededRandom from those).
import { loadTestFakes } from './oneroster-fakes.mjs';

/** Compiles and imports `test/fakes/powerschool/index.ts`; call `dispose()` when done to remove the build. */
export function loadPowerSchoolFakes() {
  return loadTestFakes('powerschool');
}
