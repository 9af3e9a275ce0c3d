/**
 * The tests of `src/release/` (MeshRelease, ReleasePlan, the desired state, traffic floors), run as ONE jest suite:
 * jest gives every suite its own module registry, and each of these parts loads the library and compiles the schemas
 * (and CEL rules) of the kinds it validates. This folder: `npx jest test/release`; one part:
 * `npx jest test/release -t '<its describe name>'`. Snapshots: `__snapshots__/release.test.ts.snap`.
 */
import './mesh-release.tests';
import './mesh-release-safety.tests';
import './plans.tests';
import './release-plan.tests';
import './desired-state.tests';
import './traffic-floors.tests';
