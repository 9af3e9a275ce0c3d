/**
 * The tests of `src/routing/gateway-api/`, run as ONE jest suite. Each part synthesizes releases and compiles the
 * schemas and CEL rules of the Service, Deployment and HTTPRoute kinds it validates; jest gives every suite its own
 * module registry, so as separate suites they did that once each. This folder: `npx jest test/routing/gateway-api`;
 * one part: `npx jest test/routing/gateway-api -t '<its describe name>'`. Snapshots:
 * `__snapshots__/gateway-api.test.ts.snap`.
 */
import './router.tests';
import './limits.tests';
import './safety.tests';
import './specs.tests';
import './reader.tests';
