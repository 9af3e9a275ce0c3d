/** Durations as the rules compare them: milliseconds (so 3 x 0.1s fits 0.3s exactly). */
import { parseGoDuration } from '../validation/_go-duration';

/**
 * Milliseconds of a protobuf/Go duration string such as `2s`, `1m30s`, `500ms` (Go's
 * `time.ParseDuration`, as Istio and Kubernetes read it); undefined when absent or unreadable.
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') {
    return undefined;
  }
  // The common `<integer><unit>` without the port of Go's parser (same result: well inside int64 nanoseconds).
  const simple = SIMPLE.exec(value);
  if (simple) {
    return Number(simple[1]) * SIMPLE_UNITS_MS[simple[2]];
  }
  try {
    return Number(parseGoDuration(value)) / 1_000_000;
  } catch {
    return undefined;
  }
}

const SIMPLE = /^([0-9]{1,6})(ms|s|m|h)$/;
const SIMPLE_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1.5s`, `60s`: milliseconds shown in seconds, without float noise. */
export function showMs(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}
