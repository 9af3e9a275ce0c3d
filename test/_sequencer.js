/**
 * Jest's test order when it has no timings of its own (a fresh clone, as in CI): the longest suites first, so
 * that neither worker is left alone with a long suite at the end. Jest's default, the largest file first, would
 * start the property tests (short file, ~30 s) after a dozen others, and the suites that import their parts
 * (`import './x.tests'`: a few lines) last. Here a suite's weight is its duration in SECONDS below (one run on the
 * 2-core machine; only the order depends on them), or, for a suite not listed, its size with the parts it
 * imports at ~10 KB per second. With timings from an earlier run (jest's cache directory), jest's own order
 * applies: failed suites first, then the longest.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = path.join(__dirname, '..');
const SECONDS = {
  'test/property.test.ts': 32,
  'test/cli/commands.test.ts': 10,
  'test/cli/runbook.test.ts': 10,
  'test/release/release.test.ts': 9,
  'test/cli/example.test.ts': 9,
  'test/routing/gateway-api/gateway-api.test.ts': 8,
  'test/typecheck.test.ts': 6,
  'test/cli/check.test.ts': 5,
  'test/validation/validation.test.ts': 5,
  'test/safety/property.test.ts': 4,
};

/** The suite's file size plus the sizes of the `./*.tests` parts it imports, in bytes. */
function sizeWithParts(file) {
  const text = fs.readFileSync(file, 'utf8');
  let size = text.length;
  for (const match of text.matchAll(/^import '(\.\/[^']+\.tests)';$/gm)) {
    size += fs.statSync(path.join(path.dirname(file), `${match[1]}.ts`)).size;
  }
  return size;
}

function weight(file) {
  const known = SECONDS[path.relative(ROOT, file).split(path.sep).join('/')];
  return known ?? sizeWithParts(file) / 10_000;
}

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const weights = new Map(tests.map((test) => [test.path, weight(test.path)]));
    for (const test of tests) {
      test.duration = this.time(test);
    }
    return tests.sort((a, b) => {
      const failedA = this.hasFailed(a);
      const failedB = this.hasFailed(b);
      if (failedA !== failedB) return failedA ? -1 : 1;
      if ((a.duration != null) !== (b.duration != null)) return a.duration != null ? 1 : -1;
      if (a.duration != null && b.duration != null) return b.duration - a.duration;
      return weights.get(b.path) - weights.get(a.path);
    });
  }
}

module.exports = LongestFirstSequencer;
