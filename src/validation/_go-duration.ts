/**
 * Go's `time.ParseDuration`, ported: the syntax both Kubernetes CEL (`duration(string)`, cel-go converts strings
 * with `time.ParseDuration`) and Istio (gogo jsonpb reads `google.protobuf.Duration` strings with
 * `time.ParseDuration`) accept for durations such as `10s`, `1.5h`, `2h45m`, `300ms`, `-1.5h`, `0`.
 *
 * Valid units: `ns`, `us` (or `µs` U+00B5, `μs` U+03BC), `ms`, `s`, `m`, `h`. A unit is required except for `0`;
 * the result must fit in an int64 of nanoseconds (about 292 years), which is inside the protobuf Duration range
 * (±315,576,000,000 s), so any value accepted here is also a valid protobuf Duration.
 */

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX = 2n ** 63n;

/** Nanoseconds of a Go duration string; throws `time: invalid duration "<s>"` (and Go's other messages) otherwise. */
export function parseGoDuration(input: string): bigint {
  const invalid = (what = 'invalid duration') => new Error(`time: ${what} ${JSON.stringify(input)}`);
  let s = input;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw invalid();
    const intPart = /^[0-9]*/.exec(s)![0];
    s = s.slice(intPart.length);
    let v = 0n;
    for (const c of intPart) {
      v = v * 10n + BigInt(c);
      if (v > MAX) throw invalid();
    }
    let fraction = 0n;
    let scale = 1;
    let post = false;
    if (s !== '' && s[0] === '.') {
      const digits = /^[0-9]*/.exec(s.slice(1))![0];
      s = s.slice(1 + digits.length);
      post = digits.length > 0;
      let overflow = false;
      for (const c of digits) {
        if (overflow) continue;
        const next = fraction * 10n + BigInt(c);
        if (next > MAX) { // Go ignores the digits that would overflow
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
    }
    if (intPart.length === 0 && !post) throw invalid();
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === '') throw invalid('missing unit in duration');
    s = s.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(input)}`);
    if (v > MAX / unit) throw invalid();
    v *= unit;
    if (fraction > 0n) {
      v += BigInt(Math.floor(Number(fraction) * (Number(unit) / scale)));
      if (v > MAX) throw invalid();
    }
    total += v;
    if (total > MAX) throw invalid();
  }
  if (neg) return -total;
  if (total > MAX - 1n) throw invalid();
  return total;
}

/** `<seconds>.<9 digits>s`: the canonical protobuf JSON form of `nanos` (used to build CEL duration values). */
export function protobufDurationText(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  return `${sign}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}s`;
}
