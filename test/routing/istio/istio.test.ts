/**
 * The tests of `src/routing/istio/` (its specs, its reader and its rules), run as ONE jest suite: jest gives every
 * suite its own module registry, and each part loads the library. This folder: `npx jest test/routing/istio`; one
 * part: `npx jest test/routing/istio -t '<its describe name>'` (a rule: its id).
 */
import './specs.tests';
import './reader.tests';
import './rules/cluster-domain.tests';
import './rules/destination-rule-visible.tests';
import './rules/gateways-without-mesh.tests';
import './rules/mtls-mode.tests';
import './rules/one-virtual-service-per-host.tests';
import './rules/protocol.tests';
import './rules/service-selects-version.tests';
import './rules/subset-unique.tests';
