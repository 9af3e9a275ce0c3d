/**
 * What a release looks like on the cluster, read from the live objects (not from the library's readers): each
 * version's share of the catch-all traffic, from the routing objects as the mesh would read them, and its ready
 * pods. `Sampler` records it every second while a runbook runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { Kube } from './_kube';

/** One reading of a release. */
export interface Sample {
  /** Milliseconds since the sampler started. */
  readonly at: number;
  /** Share of the catch-all traffic per version, in percent (versions without traffic are absent). */
  readonly shares: { [version: string]: number };
  /** Ready, non-terminating pods per version. */
  readonly ready: { [version: string]: number };
  /** The live `mesh-release.io/stage` of the routing object. */
  readonly stage?: string;
  /**
   * While the mesh has not acknowledged the routing object's current generation (Istio: `Reconciled`; Gateway API:
   * every parent `Accepted` at it), the shares of the last generation it acknowledged: what proxies and gateways still
   * send. Absent when the current one is acknowledged (or none ever was).
   */
  readonly inFlight?: { [version: string]: number };
}

const STAGE = 'mesh-release.io/stage';

/** Whether the mesh acknowledged the routing object's current generation. */
function acknowledged(o: any): boolean {
  const generation = o.metadata?.generation;
  if (o.kind === 'HTTPRoute') {
    const parents = o.status?.parents ?? [];
    return parents.length > 0 && parents.every((p: any) => (p.conditions ?? [])
      .some((c: any) => c.type === 'Accepted' && c.status === 'True' && c.observedGeneration === generation));
  }
  return (o.status?.conditions ?? []).some((c: any) => c.type === 'Reconciled' && c.status === 'True' && c.observedGeneration === generation);
}

/** Reads the shares and ready pods of the release of `app` in `namespace` (app/version labels). */
export async function readRelease(kube: Kube, namespace: string, app: string): Promise<Omit<Sample, 'at'> & { acknowledged?: boolean }> {
  const [vs, dr, route, services, pods] = await Promise.all([
    kube.find('networking.istio.io/v1', 'VirtualService', namespace, app),
    kube.find('networking.istio.io/v1', 'DestinationRule', namespace, app),
    kube.find('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, app),
    kube.list('v1', 'Service', namespace),
    kube.list('v1', 'Pod', namespace, `labelSelector=app%3D${encodeURIComponent(app)}`),
  ]);
  const service = services.items.find((s) => s.metadata.name === app);
  let shares: { [version: string]: number } = {};
  let stage: string | undefined;
  const routing = vs ?? route;
  if (vs) {
    stage = vs.metadata.annotations?.[STAGE];
    const subsets = new Map<string, string>((dr?.spec?.subsets ?? []).map((s: any) => [s.name, s.labels?.version]));
    const catchAll = (vs.spec.http ?? []).find((r: any) => !r.match || r.match.length === 0);
    shares = split((catchAll?.route ?? []).map((d: any) => [subsets.get(d.destination.subset) ?? `?${d.destination.subset}`, d.weight ?? 100]));
  } else if (route) {
    stage = route.metadata.annotations?.[STAGE];
    const versionOf = new Map<string, string>(services.items.map((s) => [s.metadata.name, s.spec.selector?.version ?? `?${s.metadata.name}`]));
    const catchAll = (route.spec.rules ?? []).find((r: any) => (r.matches ?? []).every((m: any) => !m.headers && !m.queryParams && !m.method));
    shares = split((catchAll?.backendRefs ?? []).map((b: any) => [versionOf.get(b.name) ?? `?${b.name}`, b.weight ?? 1]));
  } else if (service?.spec.selector?.version) {
    stage = service.metadata.annotations?.[STAGE];
    shares = { [service.spec.selector.version]: 100 };
  }
  const ready: { [version: string]: number } = {};
  for (const pod of pods.items) {
    const isReady = !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (isReady) {
      const version = pod.metadata.labels?.version;
      ready[version] = (ready[version] ?? 0) + 1;
    }
  }
  return { shares, ready, stage, acknowledged: routing ? acknowledged(routing) : undefined };
}

/** Weights to percentages of their sum; zero weights left out. */
function split(weights: [string, number][]): { [version: string]: number } {
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  const out: { [version: string]: number } = {};
  for (const [version, w] of weights) {
    if (w > 0 && total > 0) {
      out[version] = (out[version] ?? 0) + (100 * w) / total;
    }
  }
  return out;
}

export class Sampler {
  readonly samples: Sample[] = [];
  readonly errors: Error[] = [];
  private timer?: NodeJS.Timeout;
  private readonly started = Date.now();
  private pending?: Promise<void>;
  /** The shares of the last routing generation the mesh acknowledged. */
  private live?: { [version: string]: number };

  /** `onSample`: called with each sample as it is read (a traffic simulator follows the live routing with it). */
  constructor(private readonly kube: Kube, private readonly namespace: string, private readonly app: string, private readonly everyMs = 1000,
    private readonly onSample?: (sample: Sample) => void) {}

  start(): this {
    const tick = () => {
      this.pending = readRelease(this.kube, this.namespace, this.app)
        .then(({ acknowledged: done, ...s }) => {
          if (done) {
            this.live = s.shares;
          }
          const inFlight = done === false && this.live ? { inFlight: this.live } : {};
          const sample: Sample = { at: Date.now() - this.started, ...s, ...inFlight };
          this.samples.push(sample);
          this.onSample?.(sample);
        })
        .catch((e) => { this.errors.push(e); });
    };
    tick();
    this.timer = setInterval(tick, this.everyMs);
    return this;
  }

  async stop(): Promise<Sample[]> {
    clearInterval(this.timer);
    await this.pending;
    return this.samples;
  }
}

/** The floor of a version's Deployment in a stage: its autoscaler's minReplicas, else its replicas, else 1. */
export function floorOf(objects: any[], namespace: string, name: string): number | undefined {
  const inNs = (o: any) => o.metadata?.namespace === namespace && o.metadata?.name === name;
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && inNs(o));
  const deployment = objects.find((o) => o.kind === 'Deployment' && inNs(o));
  if (!deployment) {
    return undefined;
  }
  return hpa ? hpa.spec.minReplicas ?? 1 : deployment.spec.replicas ?? 1;
}

/**
 * Samples where a version carries more traffic than its ready pods can take at the reference floor (the stable's
 * floor in the first stage): w% of the traffic needs ceil(floor × w / 100) ready pods. Its share is the larger of the
 * routing object's and, while the mesh has not acknowledged it yet, the last acknowledged one's (`inFlight`: what the
 * proxies still send). The first stage is left out (its pods are still starting when nothing routes to other versions yet).
 */
export function underCapacity(samples: Sample[], firstStage: string, floorRef: number): string[] {
  const shares = (s: Sample) => {
    const out = { ...s.shares };
    for (const [version, share] of Object.entries(s.inFlight ?? {})) {
      out[version] = Math.max(out[version] ?? 0, share);
    }
    return out;
  };
  return samples.filter((s) => s.stage !== undefined && s.stage !== firstStage).flatMap((s) => Object.entries(shares(s))
    .filter(([version, share]) => (s.ready[version] ?? 0) < Math.ceil((floorRef * share) / 100 - 1e-9))
    .map(([version, share]) => `at ${s.at} ms (stage ${s.stage}): ${version} carries ${share.toFixed(1)}%`
      + `${(s.inFlight?.[version] ?? 0) > (s.shares[version] ?? 0) ? ' (the routing still propagating)' : ''} with ${s.ready[version] ?? 0} ready pods `
      + `(needs ${Math.ceil((floorRef * share) / 100 - 1e-9)} of ${floorRef})`));
}

/** Objects of a stage directory written by `mesh-release plan`, `runbook` or `rollout`. */
export function stageObjects(dir: string): any[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON())).filter((o) => o);
}

/**
 * `underCapacity` of the samples of a release driven into `outDir` (the stage directories `rollout` wrote), with the
 * floor of the `stable` version in the plan's first stage.
 */
export function underFloors(samples: Sample[], outDir: string, namespace: string, app: string, stable: string): string[] {
  const first = fs.readdirSync(outDir).filter((d) => /^\d\d-/.test(d)).sort()[0];
  const floorRef = floorOf(stageObjects(path.join(outDir, first)), namespace, `${app}-${stable}`);
  if (!floorRef) {
    return [`no Deployment ${app}-${stable} in ${first}`];
  }
  return underCapacity(samples, first.slice(3), floorRef);
}
