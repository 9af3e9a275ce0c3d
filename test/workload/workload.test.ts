/**
 * The tests of `src/workload/` (VersionedApp, Scaling, the merge of workload options, the workload as the safety check
 * reads it), run as ONE jest suite: each part loads the library (cdk8s, cdk8s-plus) and VersionedApp's compiles the
 * schemas of the kinds it validates; jest gives every suite its own module registry. This folder:
 * `npx jest test/workload`; one part: `npx jest test/workload -t '<its describe name>'`. Snapshots:
 * `__snapshots__/workload.test.ts.snap`.
 */
import './versioned-app.tests';
import './scaling.tests';
import './merge.tests';
import './workload-manifests.tests';
import './object-registry.tests';
import './stored-form.tests';
