/**
 * The schema-validation tests, run as ONE jest suite. Each part compiles the CRD schemas and CEL rules of the
 * kinds it validates (~0.3-0.8 s per kind, per suite) and loads the library; jest gives every suite its own module
 * registry, so as separate suites they did that four times. One part:
 * `npx jest test/validation/validation.test.ts -t '<its describe name>'`.
 * `isolation.test.ts` stays a suite of its own: it needs a fresh module registry.
 */
import './cel-library.tests';
import './cel-rules.tests';
import './istio-semantics.tests';
import './schema-validation.tests';
import './served.tests';
