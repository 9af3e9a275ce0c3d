/**
 * The stage, plan and helper unit tests, run as ONE jest suite: jest gives every suite its own module registry,
 * and each of these loads the library (cdk8s, cdk8s-plus, the typed Istio and Gateway API classes) for a second or
 * less of tests. One part: `npx jest test/units.test.ts -t '<its describe name>'`.
 */
import './release-stage.tests';
import './release-plan.tests';
import './scaling.tests';
import './validation-helpers.tests';
import './merge-workload-options.tests';
