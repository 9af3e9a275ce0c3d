/**
 * The driver against an in-memory fake of the Kubernetes API: what a next release, a resumed rollout and a stopped
 * roll back do when `rollout` is run again.
 */
import { Chart, Testing } from 'cdk8s';
import { MeshRelease, ReleasePlan, TrafficRouter } from '../../src';
import { CliError } from '../../src/cli/errors';
import { releasesIn } from '../../src/cli/release-view';
import { changesBetween } from '../../src/cli/stage-diff';
import { PlanResult, StageResult } from '../../src/cli/stages';
import { DriverOptions, EXIT_ROLLED_BACK, RolloutDriver } from '../../src/rollout/driver';
import { Reporter } from '../../src/rollout/reporter';
import { WaitingTime } from '../../src/rollout/waiting-time';
import { ProxyWaitMode } from '../../src/rollout/waits';

function planOf(stable: string, candidate: string): PlanResult {
  const plan = ReleasePlan.canary({ stable, candidate, weights: [10, 50] });
  const versions = [{ version: stable, image: `example/web:${stable}` }, { version: candidate, image: `example/web:${candidate}` }];
  const manifests = plan.stages.map((stage) => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    new MeshRelease(chart, 'web', { app: 'web', port: 8080, versions, stage, router: TrafficRouter.istio() });
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

const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

/** A fake API server: objects by kind, namespace and name; Deployments ready at once. */
class FakeKube {
  readonly store = new Map<string, any>();
  readonly log: string[] = [];
  readonly waiting = new WaitingTime();
  readonly access = { server: 'fake', context: 'fake' };

  constructor() {
    this.store.set(key('Namespace', undefined, 'shop'), { metadata: { name: 'shop' } });
  }

  async find(_a: string, kind: string, ns: string | undefined, name: string) {
    return this.store.get(key(kind, kind === 'Namespace' ? undefined : ns, name));
  }
  async list(_a: string, kind: string, ns: string) {
    return [...this.store.values()].filter((o) => o.kind === kind && o.metadata.namespace === ns);
  }
  async apply(o: any, ns: string, dry = false) {
    if (dry) return o;
    const obj = JSON.parse(JSON.stringify({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? ns } }));
    if (obj.kind === 'Deployment') {
      const r = obj.spec.replicas ?? 1;
      const existed = this.store.get(key('Deployment', obj.metadata.namespace, obj.metadata.name));
      obj.metadata.generation = 1;
      obj.status = existed?.status ?? { observedGeneration: 1, replicas: r, updatedReplicas: r, readyReplicas: 100, availableReplicas: r };
      if (!existed) this.log.push(`CREATE Deployment/${obj.metadata.name}`);
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

const settings: any = {
  pollMs: 1, dwellSeconds: 0, routeTimeout: 5, endpointsTimeout: 5, propagationTimeout: 5, proxyMode: ProxyWaitMode.DWELL, propagationWait: 0,
};

interface Run {
  readonly analyzed: string[];
  /** The stages each `beforeApplying` was called with. */
  readonly before: string[][];
  readonly lines: string[];
  readonly exit?: number;
  readonly error?: CliError;
}

/** Runs `rollout` (or `abort`); `fail` names a stage whose analysis fails; `stopWhen` stops the driver (SIGTERM) on a matching line. */
async function run(kube: FakeKube, plan: PlanResult, opts: {
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

describe('the next release, whose plan reuses the stage names of the one before', () => {
  test('after v1->v2 completed, v2->v3 starts at its first stage and analyzes every stage', async () => {
    const kube = new FakeKube();
    const v2 = planOf('v1', 'v2');
    expect((await run(kube, v2)).exit).toBe(0);
    expect(kube.record().state).toBe('completed');
    kube.log.length = 0;

    const v3 = planOf('v2', 'v3');
    const second = await run(kube, v3);
    expect(second.error).toBeUndefined();
    expect(second.exit).toBe(0);
    expect(second.analyzed).toEqual(v3.stages.map((s) => s.name));
    // v3 is created before v2 loses its traffic, and v2 is deleted only at the end.
    const created = kube.log.indexOf('CREATE Deployment/web-v3');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(kube.log.findIndex((l) => /v3=100/.test(l))).toBeGreaterThan(created);
    expect(kube.log.indexOf('DELETE Deployment/web-v2')).toBeGreaterThan(kube.log.findIndex((l) => /v3=100/.test(l)));
    expect(kube.record().state).toBe('completed');
    expect(kube.has('Deployment', 'web-v3')).toBe(true);
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
  });

  test('after v1->v2 was rolled back, v2->... of another plan starts at its first stage too', async () => {
    const kube = new FakeKube();
    expect((await run(kube, planOf('v1', 'v2'), { fail: 'shift-50' })).exit).toBe(EXIT_ROLLED_BACK);
    expect(kube.record().state).toBe('rolled-back');
    const next = planOf('v1', 'v2b');
    const second = await run(kube, next);
    expect(second.exit).toBe(0);
    expect(second.analyzed).toEqual(next.stages.map((s) => s.name));
  });

  test('with no record, a live stage named like a later stage of the plan but of other versions is refused', async () => {
    const kube = new FakeKube();
    expect((await run(kube, planOf('v1', 'v2'))).exit).toBe(0);
    kube.store.delete(key('ConfigMap', 'shop', 'mesh-release.web'));
    kube.log.length = 0;

    const v3 = planOf('v2', 'v3');
    const refused = await run(kube, v3);
    expect(refused.error?.message).toMatch(/retire/);
    expect(refused.error?.message).toMatch(/--force/);
    expect(kube.log).toEqual([]);
    expect(kube.has('Deployment', 'web-v2')).toBe(true);

    // --force: this plan from its first stage.
    const forced = await run(kube, v3, { options: { force: true } });
    expect(forced.exit).toBe(0);
    expect(forced.analyzed).toEqual(v3.stages.map((s) => s.name));
    expect(kube.log.indexOf('CREATE Deployment/web-v3')).toBeLessThan(kube.log.findIndex((l) => /v3=100/.test(l)));
  });

  test('a rollout stopped mid-way and run again with the same plan resumes where it was', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const stopped = await run(kube, plan, { stopWhen: (l) => /^shift-50: live/.test(l) });
    expect(stopped.error?.message).toMatch(/run the command again to resume/);
    expect(kube.record().applying).toBe('shift-50');
    const again = await run(kube, plan);
    expect(again.exit).toBe(0);
    expect(again.analyzed).toEqual(plan.stages.slice(plan.stages.findIndex((s) => s.name === 'shift-50')).map((s) => s.name));
  });
});

describe('run again on a release already at its target', () => {
  test('nothing applied or analyzed, beforeApplying (Prometheus\'s check) not called: "already at stage", exit 0', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan);
    expect(first.exit).toBe(0);
    expect(first.before).toEqual([plan.stages.map((s) => s.name)]);
    kube.log.length = 0;
    const again = await run(kube, plan);
    expect({ exit: again.exit, error: again.error?.message }).toEqual({ exit: 0, error: undefined });
    expect(again.before).toEqual([]);
    expect(again.analyzed).toEqual([]);
    expect(kube.log).toEqual([]);
    expect(again.lines[again.lines.length - 1]).toBe('shop/web: already at stage retire (the last: completed)');
  });

  test('--to a stage reached: the same; a later --to: beforeApplying gets the stages still to apply', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    expect((await run(kube, plan, { options: { to: 'shift-50' } })).exit).toBe(0);
    const same = await run(kube, plan, { options: { to: 'shift-50' } });
    expect({ exit: same.exit, before: same.before, last: same.lines[same.lines.length - 1] })
      .toEqual({ exit: 0, before: [], last: 'shop/web: already at stage shift-50' });
    const further = await run(kube, plan, { options: { to: 'unroute' } });
    expect(further.before).toEqual([['shift-100', 'unroute']]);
  });
});

describe('a rollout stopped after the record says the next stage is being applied', () => {
  test('resumes at that stage, never re-applying the one before', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    // Stopped once shift-50's transition is recorded, before any of its actions: the cluster is still at shift-10.
    const stopped = await run(kube, plan, { stopWhen: (l) => /^shift-50: applying/.test(l) });
    expect(stopped.error?.message).toMatch(/run the command again to resume/);
    expect(kube.record()).toMatchObject({ stage: 'shift-10', applying: 'shift-50' });
    kube.log.length = 0;
    const again = await run(kube, plan);
    expect(again.exit).toBe(0);
    expect(again.analyzed).toEqual(plan.stages.slice(plan.stages.findIndex((s) => s.name === 'shift-50')).map((s) => s.name));
    expect(again.lines.some((l) => /^shift-10: applying/.test(l))).toBe(false);
    expect(kube.record().state).toBe('completed');
  });
});

describe('a roll back stopped mid-way', () => {
  const stopInRollBack = (l: string, lines: string[]) => lines.some((x) => x.includes('rolling back')) && /^shift-10: live/.test(l);

  test('tells to run abort, is recorded as rolled back, and `rollout` finishes the roll back instead of going forward', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan, { fail: 'shift-50', stopWhen: stopInRollBack });
    expect(first.error?.message).toMatch(/mesh-release abort/);
    expect(first.error?.message).not.toMatch(/run the command again to resume/);
    expect(kube.record().state).toBe('rolling-back');
    expect(JSON.parse(kube.record().rolledBack)).toContain(kube.record().digest);
    kube.log.length = 0;

    const second = await run(kube, plan);
    expect(second.exit).toBe(EXIT_ROLLED_BACK);
    expect(second.analyzed).toEqual([]);
    expect(kube.log.some((l) => /v2=50|v2=100/.test(l))).toBe(false);
    expect(kube.record().state).toBe('rolled-back');
    expect(kube.record().stage).toBe(plan.stages[0].name);

    // rolled back: refused again without --retry, a new attempt with it.
    expect((await run(kube, plan)).error?.message).toMatch(/--retry/);
    const retried = await run(kube, plan, { options: { retry: true } });
    expect(retried.exit).toBe(0);
    expect(kube.record().state).toBe('completed');
  });

  test('stopped inside a step back (its apply done, its deletes not), that step is performed again whole', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan, {
      fail: 'shift-50',
      stopWhen: (l, lines) => lines.some((x) => x.includes('rolling back')) && /^make-routable: applied/.test(l),
    });
    expect(first.error?.message).toMatch(/mesh-release abort/);
    expect(kube.record()).toMatchObject({ state: 'rolling-back', applying: 'make-routable' });
    expect(kube.has('Deployment', 'web-v2')).toBe(true);
    const second = await run(kube, plan);
    expect(second.exit).toBe(EXIT_ROLLED_BACK);
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
    expect(kube.record()).toMatchObject({ state: 'rolled-back', stage: 'stable' });
  });

  test('abort finishes it too', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    await run(kube, plan, { fail: 'shift-50', stopWhen: stopInRollBack });
    const aborted = await run(kube, plan, { command: 'abort' });
    expect(aborted.exit).toBe(0);
    expect(kube.record().state).toBe('rolled-back');
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
  });
});
