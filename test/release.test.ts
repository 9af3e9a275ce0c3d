/**
 * The MeshRelease, VersionedApp, plan and SafetyCheck tests, run as ONE jest suite: jest gives every suite its own
 * module registry, and each of these loads the library and compiles the schemas (and CEL rules) of the kinds it
 * validates. One part: `npx jest test/release.test.ts -t '<its describe name>'`. Snapshots:
 * `__snapshots__/release.test.ts.snap`.
 */
import './versioned-app.tests';
import './mesh-release.tests';
import './mesh-release-safety.tests';
import './safety-check.tests';
import './plans.tests';
