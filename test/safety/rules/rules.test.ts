/**
 * The tests of the shared safety rules (`src/safety/rules/`, one file each), run as ONE jest suite: jest gives every
 * suite its own module registry, and each part loads the library. `shape.tests.ts`: every rule file of the library
 * (shared and routers') declares one rule, registered; the others: one rule each, through `SafetyCheck` on plain
 * manifests (`../_cases.ts`). This folder: `npx jest test/safety/rules`; one rule:
 * `npx jest test/safety/rules -t '<rule id>'`.
 */
import './shape.tests';
import './backend-before-route.tests';
import './backend-defined.tests';
import './backend-removed-while-routed.tests';
import './capacity.tests';
import './catch-all-route.tests';
import './deployment-removed-while-backend.tests';
import './destination-ready.tests';
import './duplicate-object.tests';
import './replicas-removed-while-routed.tests';
import './retry-budget.tests';
import './rollback-capacity.tests';
import './stale-backend.tests';
import './termination-budget.tests';
import './weights.tests';
