/**
 * The runbook as written (src/cli/runbook.ts) and its bash helpers, per router, run against a fake kubectl (a
 * bash stub that records its calls and answers from JSON files; the real control plane runs them in the
 * integration suite): the guard before each stage, roll back one stage at a time, and the route and
 * endpoint waits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run, tmpDir } from './_cli';
import { calls, parentStatus, route, routerPlan, RouterName, ROUTERS, runHelper, withFakes, writeJson } from './_runbook';
import { renderRunbook, renderScript } from '../../src/cli/runbook';

/** The script of `router`'s plan, written to a fresh directory (the fakes' too); returns the directory. */
function script(router: RouterName): string {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'runbook.sh'), renderScript(routerPlan(router, dir), dir), { mode: 0o755 });
  return dir;
}

/** Runs the script in `dir` with the fake kubectl, the live stage being `live` (undefined: no object yet). */
function runScript(dir: string, live: string | undefined, args: string[], env: NodeJS.ProcessEnv = {}) {
  fs.rmSync(path.join(dir, 'calls.log'), { force: true });
  if (live === undefined) {
    fs.rmSync(path.join(dir, 'live'), { force: true });
  } else {
    fs.writeFileSync(path.join(dir, 'live'), live);
  }
  const result = withFakes(dir, path.join(dir, 'runbook.sh'), args, env);
  return { ...result, calls: calls(dir), applies: calls(dir).filter((c) => c.startsWith('kubectl apply')) };
}

const pod = (name: string, version: string, ready: boolean, extra: object = {}) => ({
  metadata: { name, namespace: 'shop', labels: { app: 'web', version }, ...extra },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const endpoint = (name: string, ready: boolean | undefined) => ({
  addresses: [`10.0.0.${name.length}`], conditions: ready === undefined ? {} : { ready }, targetRef: { kind: 'Pod', name, namespace: 'shop' },
});
const list = (items: object[]) => ({ apiVersion: 'v1', kind: 'List', items });
const slices = (...endpoints: object[][]) => list(endpoints.map((e) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', endpoints: e })));

/** Fakes of the selector switch selecting `version`, with its two pods ready and listed. */
function endpointsOf(dir: string, version: string): void {
  writeJson(dir, 'service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web', version } } });
  writeJson(dir, 'pods', list([pod(`web-${version}-a`, version, true), pod(`web-${version}-b`, version, true)]));
  writeJson(dir, 'slices', slices([endpoint(`web-${version}-a`, true), endpoint(`web-${version}-b`, true)]));
}

describe.each(Object.keys(ROUTERS) as RouterName[])('the runbook of %s', (router) => {
  let dir: string;
  beforeAll(() => {
    dir = script(router);
  });

  test('is bash that shellcheck accepts', () => {
    const syntax = run('bash', ['-n', path.join(dir, 'runbook.sh')]);
    expect(syntax.stderr).toBe('');
    if (run('shellcheck', ['--version']).status !== 0) {
      // CI installs it (.ci/run: apt-get install -y shellcheck); only a local machine without it skips.
      console.warn('shellcheck is not installed: skipping the shellcheck test (apt-get install -y shellcheck)');
      expect(process.env.CI).toBeUndefined();
      return;
    }
    const check = run('shellcheck', ['--severity=style', path.join(dir, 'runbook.sh')]);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('the Markdown runbook has the same commands, in the same order (one Step list)', () => {
    const plan = routerPlan(router, dir);
    const md = renderRunbook(plan, dir);
    const blocks = [...md.split('## 1. ')[1].matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
    const mdCommands = blocks.flatMap((b) => b.split('\n')).filter((l) => l !== '' && !l.startsWith('#'));
    const shCommands = [...renderScript(plan, dir).matchAll(/^ {2}mr_run (.*)$/gm)].map((m) => m[1]);
    // The script lists each stage, then its roll back; so does the Markdown.
    expect(mdCommands).toEqual(shCommands);
    expect(md).toContain('mr_expect_stage() {');
    expect(md).toContain('mr_wait_routes() {');
    expect(md).toContain('mr_wait_endpoints() {');
  });
});

describe('the guard: a stage starts only after the stage before it', () => {
  let dir: string;
  beforeAll(() => {
    dir = script('service-selector');
    endpointsOf(dir, 'v1');
  });

  test('a fresh install (no Service yet) applies the first stage, and waits for its EndpointSlices', () => {
    const { status, calls: made, applies } = runScript(dir, undefined, ['--to', 'stable']);
    expect(status).toBe(0);
    expect(applies).toEqual(['kubectl apply -f stages/01-stable/']);
    expect(made[0]).toBe('kubectl get service/web -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}');
    expect(made).toContain('kubectl get endpointslices.discovery.k8s.io -n shop -l kubernetes.io/service-name=web -o json');
  });

  test('live at the stage before: applies; live at the stage itself: applies again (idempotent)', () => {
    expect(runScript(dir, 'add-subset', ['--from', 'deploy', '--to', 'deploy']).applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    const again = runScript(dir, 'deploy', ['--from', 'deploy', '--to', 'deploy']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("service/web (namespace shop) is at stage 'deploy': applying stage 'deploy'");
    expect(again.applies).toEqual(['kubectl apply -f stages/03-deploy/']);
  });

  test('fails to start a stage when another is live: exit 1, nothing applied, the object, live and expected stages and --force named', () => {
    const wrong = runScript(dir, 'stable', ['--from', 'deploy']);
    expect(wrong.status).toBe(1);
    expect(wrong.applies).toEqual([]);
    expect(wrong.stderr).toContain("refusing to apply stage 'deploy': service/web (namespace shop) is at stage 'stable', expected 'add-subset' or 'deploy'.\n"
      + 'Apply the stages in order (roll back with --rollback --from <the live stage>), or pass --force (MESH_RELEASE_FORCE=1) to skip this check.\n');
  });

  test('fails to start a later stage on a fresh cluster, or on an object without the stage annotation', () => {
    const fresh = runScript(dir, undefined, ['--from', 'add-subset']);
    expect(fresh.status).toBe(1);
    expect(fresh.stderr).toContain("service/web (namespace shop) is at stage none (not created yet), expected 'stable' or 'add-subset'.");
    const unannotated = runScript(dir, '', ['--to', 'stable']);
    expect(unannotated.status).toBe(1);
    expect(unannotated.stderr).toContain('is at stage unknown (no mesh-release.io/stage annotation), expected none (not created yet) or \'stable\'.');
  });

  test('--force (or MESH_RELEASE_FORCE=1) skips the check', () => {
    for (const forced of [runScript(dir, 'stable', ['--from', 'deploy', '--to', 'deploy', '--force']),
      runScript(dir, 'stable', ['--from', 'deploy', '--to', 'deploy'], { MESH_RELEASE_FORCE: '1' })]) {
      expect(forced.status).toBe(0);
      expect(forced.stderr).toContain("--force: not checking the live stage of service/web (namespace shop) before stage 'deploy'");
      expect(forced.calls).toEqual(['kubectl apply -f stages/03-deploy/', 'kubectl rollout status deployment/web-v2 -n shop --timeout=180s',
        'kubectl get deployment web-v2 -n shop -o jsonpath={.status.readyReplicas}']);
    }
  });

  test('a whole run checks each stage after the one before it, each read after the previous apply', () => {
    endpointsOf(dir, 'v2');
    const all = runScript(dir, 'stable', ['--from', 'add-subset']);
    expect(all.stderr).not.toContain('refusing');
    expect(all.status).toBe(0);
    expect(all.applies).toHaveLength(6);
    endpointsOf(dir, 'v1');
  });
});

describe('--rollback --from X rolls back one stage (to X-1) unless --to says further', () => {
  let dir: string;
  beforeAll(() => {
    dir = script('service-selector');
    endpointsOf(dir, 'v1');
  });

  test('one stage by default: applies X-1, waits for the switched Service\'s EndpointSlices, deletes what X created', () => {
    const back = runScript(dir, 'shift-100', ['--rollback', '--from', 'shift-100']);
    expect(back.status).toBe(0);
    expect(back.applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    expect(back.calls).toContain('kubectl get pods -n shop -l app=web,version=v1 -o json');
  });

  test('already rolled back (X-1 live): applies X-1 again; another stage live: fails', () => {
    expect(runScript(dir, 'deploy', ['--rollback', '--from', 'shift-100']).applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    const wrong = runScript(dir, 'unroute', ['--rollback', '--from', 'shift-100']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("refusing to apply stage 'deploy': service/web (namespace shop) is at stage 'unroute', expected 'shift-100' or 'deploy'.");
  });

  test('--to goes further, one stage at a time; the first stage has nothing to roll back to', () => {
    expect(runScript(dir, 'deploy', ['--rollback', '--from', 'deploy', '--to', 'stable']).applies)
      .toEqual(['kubectl apply -f stages/02-add-subset/', 'kubectl apply -f stages/01-stable/']);
    const first = runScript(dir, 'stable', ['--rollback', '--from', 'stable']);
    expect(first.status).toBe(2);
    expect(first.stderr).toContain('--rollback: the first stage has nothing to roll back to');
  });

  test('--help says so', () => {
    expect(runScript(dir, undefined, ['--help']).stdout).toContain('(default: the stage before <from>: one stage back)');
  });
});

describe('mr_wait_routes: every parent accepted the route\'s current generation', () => {
  const gateway = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra', sectionName: 'https' };
  const mesh = { group: '', kind: 'Service', name: 'web' };
  const wait = (dir: string, timeout = '0') => runHelper(dir, ['mr_wait_routes', timeout, 'shop', 'web']);

  test('Accepted and ResolvedRefs True at the current generation for each parent: done', () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(3, [gateway, mesh], [parentStatus(gateway, 3), parentStatus(mesh, 3)]));
    const done = wait(dir);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toBe('httproute web: every parent accepted the current generation (Accepted, ResolvedRefs)\n');
    expect(calls(dir)).toEqual(['kubectl get httproute.gateway.networking.k8s.io web -n shop -o json']);
  });

  test('a parentRef\'s unset group, kind and namespace are the Gateway API defaults (the route\'s namespace)', () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(1, [{ name: 'public' }], [parentStatus({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'shop' }, 1)]));
    expect(wait(dir).status).toBe(0);
    writeJson(dir, 'route', route(1, [{ name: 'public' }], [parentStatus({ name: 'public', namespace: 'infra' }, 1)]));
    const other = wait(dir);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('httproute/web (namespace shop, generation 1), parent Gateway shop/public: no status from this parent yet');
  });

  test('the conditions of the previous generation do not count', () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 1)]));
    const stale = wait(dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toBe('HTTPRoutes not accepted by every parent after 0 s:\n'
      + 'httproute/web (namespace shop, generation 2), parent Gateway infra/public section https: '
      + 'Accepted=True (Accepted, observedGeneration 1); ResolvedRefs=True (ResolvedRefs, observedGeneration 1)\n');
  });

  test('on timeout, prints each pending parent\'s conditions: NotAllowedByListeners, BackendNotFound, no status', () => {
    const dir = tmpDir();
    const refused = parentStatus(gateway, 4, 'False', 'True', { accepted: ['NotAllowedByListeners', 'no listener of public allows routes from namespace shop'] });
    const unresolved = parentStatus(mesh, 4, 'True', 'False', { resolved: ['BackendNotFound', 'service shop/web-v2 not found'] });
    writeJson(dir, 'route', route(4, [gateway, mesh], [refused, unresolved]));
    const failed = wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('parent Gateway infra/public section https: Accepted=False (NotAllowedByListeners: no listener of public allows routes from namespace shop, observedGeneration 4)');
    expect(failed.stderr).toContain('parent Service shop/web: Accepted=True (Accepted, observedGeneration 4); ResolvedRefs=False (BackendNotFound: service shop/web-v2 not found, observedGeneration 4)');
    writeJson(dir, 'route', route(1, [gateway, mesh]));
    expect(wait(dir).stderr).toContain('parent Service shop/web: no status from this parent yet');
    // A status for another listener of the Gateway is not one for this parentRef.
    writeJson(dir, 'route', route(1, [gateway], [parentStatus({ ...gateway, sectionName: 'http' }, 1)]));
    expect(wait(dir).stderr).toContain('parent Gateway infra/public section https: no status from this parent yet');
  });

  test('polls every second until the parents accepted', () => {
    const dir = tmpDir();
    writeJson(dir, 'route.1', route(2, [gateway], [parentStatus(gateway, 1)]));
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 2)]));
    const started = Date.now();
    expect(wait(dir, '30').status).toBe(0);
    expect(calls(dir)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('kubectl failing (no route), no jq, the current namespace (\'-\')', () => {
    const dir = tmpDir();
    const failed = wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('cannot read the HTTPRoutes');
    writeJson(dir, 'route', route(1, []));
    expect(runHelper(dir, ['mr_wait_routes', '0', '-', 'web']).status).toBe(0);
    expect(calls(dir).pop()).toBe('kubectl get httproute.gateway.networking.k8s.io web -o json');
    // A PATH with the fake kubectl and the tools the helpers use, but no jq.
    const tools = path.join(dir, 'tools');
    fs.mkdirSync(tools);
    for (const tool of ['bash', 'cat', 'sed', 'sleep', 'basename']) {
      fs.symlinkSync(run('bash', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(tools, tool));
    }
    const noJq = runHelper(dir, ['mr_wait_routes', '0', 'shop', 'web'], { PATH: `${path.join(dir, 'bin')}:${tools}` });
    expect(noJq.status).toBe(1);
    expect(noJq.stderr).toBe("mr_wait_routes: jq not found; it reads the objects' status (install it, e.g. apt-get install -y jq)\n");
  });
});

describe('mr_wait_endpoints: the EndpointSlices list exactly the ready pods the Service selects', () => {
  const wait = (dir: string, timeout = '0') => runHelper(dir, ['mr_wait_endpoints', timeout, 'shop', 'web']);

  test('every ready endpoint a pod of the selector, every ready pod listed: done (unready and terminating pods need not be)', () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'pods', list([pod('web-v2-a', 'v2', true), pod('web-v2-b', 'v2', false), pod('web-v2-c', 'v2', true, { deletionTimestamp: '2025-01-01T00:00:00Z' })]));
    writeJson(dir, 'slices', slices([endpoint('web-v2-a', true), endpoint('web-v2-b', false)], [endpoint('web-v2-c', false)]));
    const done = wait(dir);
    expect(done.stderr).toBe('');
    expect(done.stdout).toBe('service/web: its EndpointSlices list exactly the ready pods of app=web,version=v2\n');
    expect(calls(dir)).toEqual([
      'kubectl get service web -n shop -o json',
      'kubectl get pods -n shop -l app=web,version=v2 -o json',
      'kubectl get endpointslices.discovery.k8s.io -n shop -l kubernetes.io/service-name=web -o json',
    ]);
  });

  test('on timeout, names the ready endpoints of pods the Service no longer selects, and the ready pods not listed', () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    // Unset `ready` is unknown, which consumers take as ready.
    writeJson(dir, 'slices', slices([endpoint('web-v1-a', undefined), endpoint('web-v2-a', true)]));
    const failed = wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe('service/web: EndpointSlices do not list exactly the ready pods it selects after 0 s:\n'
      + 'listed ready but not selected by app=web,version=v2: web-v1-a\n'
      + 'ready pods of app=web,version=v2 not listed ready yet: web-v2-b\n');
  });

  test('no ready endpoint, a Service without selector or missing: fails', () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'pods', list([]));
    writeJson(dir, 'slices', list([]));
    expect(wait(dir).stderr).toContain('\nno ready endpoint\n');
    writeJson(dir, 'service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: {} });
    expect(wait(dir).stderr).toContain('\nservice/web has no selector\n');
    fs.rmSync(path.join(dir, 'service.json'));
    expect(wait(dir).stderr).toContain('\ncannot read service/web\n');
  });

  test('polls every second until the slices follow the switch', () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'slices.1', slices([endpoint('web-v1-a', true), endpoint('web-v1-b', true)]));
    expect(wait(dir, '30').status).toBe(0);
    expect(calls(dir).filter((c) => c.startsWith('kubectl get endpointslices'))).toHaveLength(2);
  });
});
