/**
 * The driver's progress: one line per step for people (`--output text`), or one JSON object per line for CI systems
 * (`--output json`: every event with `time` and `event`, plus its fields). Expected failures are events too
 * (`error`, with the exit code), never a stack trace.
 */

/** One event of a rollout; `event` says which, the other fields depend on it. */
export interface RolloutEvent {
  readonly event: string;
  readonly stage?: string;
  readonly [field: string]: unknown;
}

/** Where events go. */
export interface RolloutEvents {
  emit(event: RolloutEvent): void;
}

/** Text or JSON lines on `write` (stdout by default). */
export class Reporter implements RolloutEvents {
  constructor(private readonly format: 'text' | 'json', private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  emit(event: RolloutEvent): void {
    if (this.format === 'json') {
      this.write(JSON.stringify({ time: new Date().toISOString(), ...event }));
    } else {
      this.write(textOf(event));
    }
  }
}

/** Events kept in memory (tests, and the analysis results the state record keeps). */
export class RecordedEvents implements RolloutEvents {
  readonly events: RolloutEvent[] = [];
  emit(event: RolloutEvent): void {
    this.events.push(event);
  }
}

function textOf(e: RolloutEvent): string {
  const at = e.stage ? `${e.stage}: ` : '';
  switch (e.event) {
    case 'start':
      return `${e.command} ${e.releases} (plan ${e.digest}): live stage ${e.live}, target ${e.target}`;
    case 'lease':
      return `${e.message}`;
    case 'stage':
      return `${at}${e.direction === 'back' ? 'rolling back to this stage' : 'applying'} (${e.index}/${e.of})`;
    case 'guard':
      return `${at}${e.message}`;
    case 'apply':
      return `${at}applied ${e.objects} objects (${e.created} created, ${e.changed} changed)`;
    case 'delete':
      return `${at}deleted ${e.object}${e.found ? '' : ' (already gone)'}`;
    case 'waiting':
      return `${at}waiting (at most ${e.timeout} s) for ${e.what}: ${e.pending}`;
    case 'waited':
      return `${at}${e.what} (${e.seconds} s)`;
    case 'dwell':
      return `${at}dwelling ${e.seconds} s: ${e.what}`;
    case 'evaluation':
      return e.message === undefined
        ? `${at}analysis ${e.metric}: ${e.value} (threshold ${e.threshold}) ${e.passed ? 'pass' : 'FAIL'}`
        : `${at}evaluation ${e.evaluation}/${e.count}${e.of ? ` of ${e.of}` : ''}: ${e.metric} `
          + `${e.passed ? 'pass' : String(e.verdict ?? 'fail').toUpperCase()} (${e.threshold}): ${e.message}`;
    case 'analysis':
      if (e.passed && Array.isArray(e.results) && e.results.length === 0) {
        return `${at}${e.reason ?? 'not analyzed'}`;
      }
      return `${at}analysis ${e.passed ? 'passed' : 'FAILED'}${e.reason ? `: ${e.reason}` : ''}`;
    case 'live':
      return `${at}live`;
    case 'timing':
      return `${at}done in ${e.seconds} s, ${e.ownMs} ms of it the driver's own work (the rest: waiting on the cluster and the analysis)`;
    case 'paused':
      return `${at}paused before this stage: run \`mesh-release promote\` to go on`;
    case 'done':
      return `${e.message}`;
    case 'error':
      return `error: ${e.message}`;
    default:
      return `${at}${e.message ?? JSON.stringify(e)}`;
  }
}
