/**
 * The router tests, run as ONE jest suite. Each part synthesizes releases and compiles the schemas and CEL rules
 * of the Service, Deployment and HTTPRoute kinds it validates; jest gives every suite its own module registry, so
 * as separate suites they did that three times. One part: `npx jest test/routing/routing.test.ts -t '<its describe
 * name>'`. Snapshots: `__snapshots__/routing.test.ts.snap`.
 */
import './gateway-api.tests';
import './gateway-api-limits.tests';
import './gateway-api-safety.tests';
import './service-selector.tests';
