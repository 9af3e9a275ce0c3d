/**
 * An in-memory fake of the Kubernetes API for the rollout driver, a canary plan of one release synthesized per
 * stage, and a runner of `rollout` / `abort` that records what the driver printed and analyzed.
 */
import { Chart, Testing } from 'cdk8s';
import { MeshRelease, ReleasePlan, TrafficRouter, VersionSpec } from '../../src';
import { CliError } from '../../src/cli/errors';
import { releasesIn } from '../../src/cli/release-view';
import { changesBetween } from '../../src/cli/stage-diff';
import { PlanResult, StageResult } from '../../src/cli/stages';
import { DriverOptions, RolloutDriver } from '../../src/rollout/driver';
import { Reporter } from '../../src/rollout/reporter';
import { WaitingTime } from '../../src/rollout/waiting-time';
import { ProxyWaitMode } from '../../src/rollout/waits';

export function planOf(stable: string, candidate: string, custom?: { plan: ReleasePlan; versionsOf: (stage: string) => VersionSpec[] }): PlanResult {
  const plan = custom?.plan ?? ReleasePlan.canary({ stable, candidate, weights: [10, 50] });
  const versions = [{ version: stable, image: `example/web:${stable}` }, { version: candidate, image: `example/web:${candidate}` }];
  const manifests = plan.stages.map((stage) => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    new MeshRelease(chart, 'web', { app: 'web', port: 8080, versions: custom?.versionsOf(stage.name) ?? versions, stage, router: TrafficRouter.istio() });
    return Testing.synth(chart);
  });
  const none = { created: [], changed: [], deleted: [] };
  const stages = plan.stages.map((stage, index): StageResult => ({
    index,
    name: stage.name,
    dir: `/tmp/x/${index}`,
    manifests: manifests[index],
    changes: changesBetween(manifests[index], manifests[index - 1]),
    rollback: index > 0 ? changesBetween(manifests[index - 1], manifests[index]) : none,
    violations: [],
    rollbackViolations: [],
  }));
  return { appDir: '/tmp/x', outDir: '/tmp/x', releases: releasesIn(manifests[0]), stages, read: { namespace: 'shop' } } as any;
}

export const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

/** A fake API server: objects by kind, namespace and name; Deployments ready at once. */
export class FakeKube {
  readonly store = new Map<string, any>();
  readonly log: string[] = [];
  readonly waiting = new WaitingTime();
  readonly access = { server: 'fake', context: 'fake' };
  /** The objects dry-run applied, in order. */
  readonly dryRuns: string[] = [];

  constructor() {
    this.store.set(key('Namespace', undefined, 'shop'), { metadata: { name: 'shop' } });
  }

  async find(_a: string, kind: string, ns: string | undefined, name: string) {
    return this.store.get(key(kind, kind === 'Namespace' ? undefined : ns, name));
  }
  /** Label selectors `k=v` and `k in (a,b)`, comma-separated. */
  async list(_a: string, kind: string, ns: string, selector?: string) {
    const terms = (selector ?? '').match(/[^,()]+(\([^)]*\))?/g) ?? [];
    const matches = (labels: any = {}) => terms.every((t) => {
      const set = t.match(/^\s*(\S+)\s+in\s+\((.*)\)\s*$/);
      if (set) return set[2].split(',').includes(labels[set[1]]);
      const [k, v] = t.split('=');
      return labels[k.trim()] === v.trim();
    });
    return [...this.store.values()].filter((o) => o.kind === kind && o.metadata.namespace === ns && matches(o.metadata.labels));
  }
  async apply(o: any, ns: string, dry = false) {
    if (dry) {
      this.dryRuns.push(`${o.kind}/${o.metadata.name}`);
      return o;
    }
    const obj = JSON.parse(JSON.stringify({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? ns } }));
    if (obj.kind === 'Deployment') {
      const r = obj.spec.replicas ?? 1;
      const existed = this.store.get(key('Deployment', obj.metadata.namespace, obj.metadata.name));
      obj.metadata.generation = 1;
      obj.status = existed?.status ?? { observedGeneration: 1, replicas: r, updatedReplicas: r, readyReplicas: 100, availableReplicas: r };
      if (!existed) this.log.push(`CREATE Deployment/${obj.metadata.name}`);
      if (existed && existed.spec.replicas !== obj.spec.replicas) this.log.push(`SCALE Deployment/${obj.metadata.name} ${obj.spec.replicas}`);
    }
    if (obj.kind === 'VirtualService') {
      this.log.push(`VS ${obj.spec.http.map((h: any) => h.route.map((r: any) => `${r.destination.subset}=${r.weight ?? 100}`).join(',')).join(';')}`);
    }
    this.store.set(key(obj.kind, obj.metadata.namespace, obj.metadata.name), obj);
    return obj;
  }
  async delete(_a: string, kind: string, ns: string, name: string, dry = false) {
    if (dry) return true;
    this.log.push(`DELETE ${kind}/${name}`);
    return this.store.delete(key(kind, ns, name));
  }
  async create(o: any) {
    this.store.set(key(o.kind, o.metadata.namespace, o.metadata.name), { ...o, metadata: { ...o.metadata, resourceVersion: '1' } });
    return o;
  }
  async replace(o: any) {
    this.store.set(key(o.kind, o.metadata.namespace, o.metadata.name), o);
    return o;
  }
  close() {}

  record(): any {
    return this.store.get(key('ConfigMap', 'shop', 'mesh-release.web'))?.data;
  }
  has(kind: string, name: string): boolean {
    return this.store.has(key(kind, 'shop', name));
  }
}

export const settings: any = {
  pollMs: 1, dwellSeconds: 0, routeTimeout: 5, endpointsTimeout: 5, propagationTimeout: 5, proxyMode: ProxyWaitMode.DWELL, propagationWait: 0,
};

export interface Run {
  readonly analyzed: string[];
  /** The stages each `beforeApplying` was called with. */
  readonly before: string[][];
  readonly lines: string[];
  readonly exit?: number;
  readonly error?: CliError;
}

/** Runs `rollout` (or `abort`); `fail` names a stage whose analysis fails; `stopWhen` stops the driver (SIGTERM) on a matching line. */
export async function run(kube: FakeKube, plan: PlanResult, opts: {
  fail?: string; stopWhen?: (line: string, lines: string[]) => boolean; options?: Partial<DriverOptions>; command?: 'rollout' | 'abort';
} = {}): Promise<Run> {
  const analyzed: string[] = [];
  const before: string[][] = [];
  const lines: string[] = [];
  const controller = new AbortController();
  const reporter = new Reporter('text', (l) => {
    lines.push(l);
    if (opts.stopWhen?.(l, lines)) controller.abort('SIGTERM received');
  });
  const hooks = {
    analyzeStage: async (c: any) => {
      analyzed.push(c.stage.name);
      return { passed: c.stage.name !== opts.fail, results: [], reason: 'success-rate 80% < 99%' };
    },
    pausesBefore: () => false,
    beforeApplying: async (stages: readonly StageResult[]) => {
      before.push(stages.map((st) => st.name));
    },
  };
  const driver = new RolloutDriver(kube as any, plan, hooks, reporter, settings, { leaseSeconds: 30, identity: 'test/1/a', ...opts.options }, controller);
  try {
    const exit = await (opts.command === 'abort' ? driver.abort() : driver.rollout(false));
    return { analyzed, before, lines, exit };
  } catch (e) {
    if (e instanceof CliError) return { analyzed, before, lines, error: e };
    throw e;
  }
}

