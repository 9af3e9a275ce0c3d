/**
 * The tests of `src/routing/service-selector/` (blue/green by the Service's selector: the router and its reader), run
 * as ONE jest suite. This folder: `npx jest test/routing/service-selector`; one part:
 * `npx jest test/routing/service-selector -t '<its describe name>'`. Snapshots:
 * `__snapshots__/service-selector.test.ts.snap`.
 */
import './router.tests';
import './reader.tests';
