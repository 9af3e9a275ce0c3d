/**
 * A traffic simulator for the rollout scenarios: every second it reads the LIVE routing of a release from the
 * cluster (`readRelease`: the weights of the VirtualService or HTTPRoute the driver applied, the Service a selector
 * switch points at, the ready pods) and sets the request rates of the exporter Prometheus scrapes
 * (`TrafficExporter`) to follow them: each version gets its share of `rps`, with the error rate and latency the test
 * set for it. A version given traffic without a ready pod answers 503 to all of it (no endpoint to send it to).
 * It samples as a `Sampler` does, so the same samples check the floors.
 */
import { Kube } from './_kube';
import { TrafficExporter } from './_prometheus';
import { Sample, Sampler } from './_sampler';

/** How a version answers. */
export interface Behaviour {
  /** Share of its requests answered 503, 0–1. */
  readonly errorRate: number;
  readonly latencyMs: number;
  /** Its proxy reports nothing (no sidecar, wrong labels): Prometheus has no series of it. */
  readonly silent?: boolean;
}

export const HEALTHY: Behaviour = { errorRate: 0, latencyMs: 20 };

export class LiveTraffic {
  readonly sampler: Sampler;
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly seen = new Set<string>();

  /** `reporter`: `destination` (sidecars) or `waypoint` (ambient mode). */
  constructor(kube: Kube, private readonly exporter: TrafficExporter, private readonly namespace: string, private readonly app: string,
    private readonly rps = 100, private readonly reporter = 'destination') {
    this.sampler = new Sampler(kube, namespace, app, 1000, (sample) => this.follow(sample));
  }

  /** Sets how `version` answers from now on (default: `HEALTHY`). */
  behave(version: string, behaviour: Behaviour): this {
    this.behaviours.set(version, behaviour);
    return this;
  }

  start(): this {
    this.sampler.start();
    return this;
  }

  /** Stops following; the versions keep the rates last set. */
  stop(): Promise<Sample[]> {
    return this.sampler.stop();
  }

  private follow(sample: Sample): void {
    Object.keys(sample.shares).forEach((v) => this.seen.add(v));
    for (const version of this.seen) {
      const share = sample.shares[version] ?? 0;
      const b = this.behaviours.get(version) ?? HEALTHY;
      const ready = (sample.ready[version] ?? 0) > 0;
      this.exporter.set(`${this.app}-${version}`, {
        rps: b.silent ? 0 : (this.rps * share) / 100,
        errorRate: ready ? b.errorRate : 1,
        latencyMs: b.latencyMs,
        reporter: this.reporter,
      }, this.namespace);
    }
  }
}
