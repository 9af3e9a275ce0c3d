/** Durations as the rules compare them: integer milliseconds (so 3 x 0.1s fits 0.3s exactly). */

const UNIT_MS: { [unit: string]: number } = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Milliseconds of a protobuf/Go duration string such as `2s`, `1m30s`, `500ms`; undefined when absent or unreadable. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') {
    return undefined;
  }
  let total = 0;
  let rest = value;
  while (rest.length > 0) {
    const match = /^([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/.exec(rest);
    if (!match) {
      return undefined;
    }
    total += Number(match[1]) * UNIT_MS[match[2]];
    rest = rest.slice(match[0].length);
  }
  return Math.round(total * 1000) / 1000;
}

/** `1.5s`, `60s`: milliseconds shown in seconds, without float noise. */
export function showMs(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}
