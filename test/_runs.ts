/**
 * How many runs a fast-check property gets: the count written in the test x `FC_RUNS_SCALE`.
 *
 * The default, 0.5, is what `npm test` and CI use, so that the whole suite stays under a minute on a
 * 2-core machine (the property tests are a third of it at full counts). Every run draws a new random
 * seed, so successive CI runs keep exploring; a failure prints its seed and path to replay it.
 * For the full counts (before a release, or after changing a rule or an arbitrary), run
 * `FC_RUNS_SCALE=1 npx jest test/property.test.ts`; a nightly job can use a higher scale.
 */
const DEFAULT_SCALE = 0.5;

function scale(): number {
  const raw = process.env.FC_RUNS_SCALE;
  const value = raw === undefined || raw === '' ? DEFAULT_SCALE : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`FC_RUNS_SCALE must be a positive number, got '${raw}'`);
  }
  return value;
}

/** `numRuns` for a property written with `n` runs at full scale (at least 1). */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * scale()));
}
