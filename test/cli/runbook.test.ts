/**
 * The runbook as written (src/cli/runbook.ts) and its bash helpers, per router, run against a fake kubectl (a
 * bash stub that records its calls and answers from JSON files; the real control plane runs them in the
 * integration suite): the guard before each stage, roll back one stage at a time, and the route and
 * endpoint waits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run, runAsync, tmpDir } from './_cli';
import { calls, parentStatus, planOf, route, routerPlan, RouterName, ROUTERS, runHelper, withFakes, writeJson } from './_runbook';
import { ReleasePlan, Scaling } from '../../src';
import { renderRunbook, renderScript } from '../../src/cli/runbook';

/*
 * Most of these tests' time is bash waiting: a poll loop's `sleep 1`, a timeout, a kubectl that hangs. So they run
 * side by side: every command is a process that does not block the event loop, every test is `test.concurrent` with
 * a directory (and fakes) of its own. Jest runs the concurrent tests of one describe block together (at most
 * --maxConcurrency, default 5, at a time) but one block after the other: the groups below are `group()`s, which
 * prefix the test names as a describe block would (the same full names), so that all the file's tests are one pool.
 */
jest.setTimeout(60_000); // a test waits for its processes (each stopped after 60 s); side by side on a busy machine.

type Body = () => Promise<void>;
/** `describe(name, body)` for concurrent tests: `body` gets a `test` that names its tests `<name> <title>`. */
function group(name: string, body: (test: (title: string, fn: Body) => void) => void): void {
  body((title, fn) => test.concurrent(`${name} ${title}`, fn));
}

/** The script of each router's plan: its commands are relative to the script's directory. */
const scripts = new Map<RouterName, string>();

/** The script of `router`'s plan, written to a fresh directory (the fakes' too); returns the directory. */
function script(router: RouterName): string {
  const dir = tmpDir();
  if (!scripts.has(router)) {
    scripts.set(router, renderScript(routerPlan(router, dir), dir));
  }
  fs.writeFileSync(path.join(dir, 'runbook.sh'), scripts.get(router)!, { mode: 0o755 });
  return dir;
}

/** Runs the script in `dir` with the fake kubectl, the live stage being `live` (undefined: no object yet). */
async function runScript(dir: string, live: string | undefined, args: string[], env: NodeJS.ProcessEnv = {}) {
  fs.rmSync(path.join(dir, 'calls.log'), { force: true });
  if (live === undefined) {
    fs.rmSync(path.join(dir, 'live'), { force: true });
  } else {
    fs.writeFileSync(path.join(dir, 'live'), live);
  }
  const result = await withFakes(dir, path.join(dir, 'runbook.sh'), args, env);
  return { ...result, calls: calls(dir), applies: calls(dir).filter((c) => c.startsWith('kubectl apply')) };
}

/** What `command` gave, and how long it took (ms). */
async function timed<T>(command: () => Promise<T>): Promise<T & { ms: number }> {
  const started = Date.now();
  const result = await command();
  return { ...result, ms: Date.now() - started };
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

/** The service-selector script in a fresh directory, its Service selecting v1 (two ready pods, listed). */
function selectorScript(): string {
  const dir = script('service-selector');
  endpointsOf(dir, 'v1');
  return dir;
}

(Object.keys(ROUTERS) as RouterName[]).forEach((router) => group(`the runbook of ${router}`, (test) => {
  test('is bash that shellcheck accepts', async () => {
    const dir = script(router);
    const syntax = await runAsync('bash', ['-n', path.join(dir, 'runbook.sh')]);
    expect(syntax.stderr).toBe('');
    if ((await runAsync('shellcheck', ['--version'])).status !== 0) {
      // CI installs it (.ci/run: apt-get install -y shellcheck); only a local machine without it skips.
      console.warn('shellcheck is not installed: skipping the shellcheck test (apt-get install -y shellcheck)');
      expect(process.env.CI).toBeUndefined();
      return;
    }
    const check = await runAsync('shellcheck', ['--severity=style', path.join(dir, 'runbook.sh')]);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('the Markdown runbook has the same commands, in the same order (one Step list)', async () => {
    const dir = tmpDir();
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
}));

group('the guard: a stage starts only after the stage before it', (test) => {
  test('a fresh install (no Service yet) applies the first stage, and waits for its EndpointSlices', async () => {
    const dir = selectorScript();
    const { status, calls: made, applies } = await runScript(dir, undefined, ['--to', 'stable']);
    expect(status).toBe(0);
    expect(applies).toEqual(['kubectl apply -f stages/01-stable/']);
    expect(made[0]).toBe('kubectl get service/web -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}');
    expect(made).toContain('kubectl get endpointslices.discovery.k8s.io -n shop -l kubernetes.io/service-name=web -o json');
  });

  test('live at the stage before: applies; live at the stage itself: applies again (idempotent)', async () => {
    const dir = selectorScript();
    expect((await runScript(dir, 'make-routable', ['--from', 'deploy', '--to', 'deploy'])).applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    const again = await runScript(dir, 'deploy', ['--from', 'deploy', '--to', 'deploy']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("service/web (namespace shop) is at stage 'deploy': applying stage 'deploy'");
    expect(again.applies).toEqual(['kubectl apply -f stages/03-deploy/']);
  });

  test('fails to start a stage when another is live: exit 1, nothing applied, the object, live and expected stages and --force named', async () => {
    const dir = selectorScript();
    const wrong = await runScript(dir, 'stable', ['--from', 'deploy']);
    expect(wrong.status).toBe(1);
    expect(wrong.applies).toEqual([]);
    expect(wrong.stderr).toContain("refusing to apply stage 'deploy': service/web (namespace shop) is at stage 'stable', expected 'make-routable' or 'deploy'.\n"
      + 'Apply the stages in order (roll back with --rollback --from <the live stage>), or pass --force (MESH_RELEASE_FORCE=1) to skip this check.\n');
  });

  test('fails to start a later stage on a fresh cluster, or on an object without the stage annotation', async () => {
    const dir = selectorScript();
    const fresh = await runScript(dir, undefined, ['--from', 'make-routable']);
    expect(fresh.status).toBe(1);
    expect(fresh.stderr).toContain("service/web (namespace shop) is at stage none (not created yet), expected 'stable' or 'make-routable'.");
    const unannotated = await runScript(dir, '', ['--to', 'stable']);
    expect(unannotated.status).toBe(1);
    expect(unannotated.stderr).toContain('is at stage unknown (no mesh-release.io/stage annotation), expected none (not created yet) or \'stable\'.');
    // The next release (the same stage names) starts where the last one ended: the first stage says how to start it.
    const next = await runScript(dir, 'retire', []);
    expect(next.status).toBe(1);
    expect(next.applies).toEqual([]);
    expect(next.stderr).toContain('If a release before this one left service/web there (at the last stage of its plan), apply this first stage alone '
      + 'with --force (--from stable --to stable --force), then go on without it.\n');
    expect((await runScript(dir, 'stable', ['--from', 'deploy'])).stderr).not.toContain('If a release before this one');
  });

  test('--force (or MESH_RELEASE_FORCE=1) skips the check', async () => {
    const dir = selectorScript();
    for (const forced of [await runScript(dir, 'stable', ['--from', 'deploy', '--to', 'deploy', '--force']),
      await runScript(dir, 'stable', ['--from', 'deploy', '--to', 'deploy'], { MESH_RELEASE_FORCE: '1' })]) {
      expect(forced.status).toBe(0);
      expect(forced.stderr).toContain("--force: not checking the live stage of service/web (namespace shop) before stage 'deploy'");
      expect(forced.calls).toEqual(['kubectl apply -f stages/03-deploy/', 'kubectl rollout status deployment/web-v2 -n shop --timeout=180s',
        'kubectl get deployment web-v2 -n shop -o jsonpath={.status.readyReplicas}']);
    }
  });

  test('a whole run checks each stage after the one before it, each read after the previous apply', async () => {
    const dir = script('service-selector');
    endpointsOf(dir, 'v2');
    const all = await runScript(dir, 'stable', ['--from', 'make-routable']);
    expect(all.stderr).not.toContain('refusing');
    expect(all.status).toBe(0);
    expect(all.applies).toHaveLength(6);
  });
});

group('--rollback --from X rolls back one stage (to X-1) unless --to says further', (test) => {
  test('one stage by default: applies X-1, waits for the switched Service\'s EndpointSlices, deletes what X created', async () => {
    const dir = selectorScript();
    const back = await runScript(dir, 'shift-100', ['--rollback', '--from', 'shift-100']);
    expect(back.status).toBe(0);
    expect(back.applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    expect(back.calls).toContain('kubectl get pods -n shop -l app=web,version=v1 -o json');
  });

  test('already rolled back (X-1 live): applies X-1 again; another stage live: fails', async () => {
    const dir = selectorScript();
    expect((await runScript(dir, 'deploy', ['--rollback', '--from', 'shift-100'])).applies).toEqual(['kubectl apply -f stages/03-deploy/']);
    const wrong = await runScript(dir, 'unroute', ['--rollback', '--from', 'shift-100']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("refusing to apply stage 'deploy': service/web (namespace shop) is at stage 'unroute', expected 'shift-100' or 'deploy'.");
  });

  test('--to goes further, one stage at a time; the first stage has nothing to roll back to', async () => {
    const dir = selectorScript();
    expect((await runScript(dir, 'deploy', ['--rollback', '--from', 'deploy', '--to', 'stable'])).applies)
      .toEqual(['kubectl apply -f stages/02-make-routable/', 'kubectl apply -f stages/01-stable/']);
    const first = await runScript(dir, 'stable', ['--rollback', '--from', 'stable']);
    expect(first.status).toBe(2);
    expect(first.stderr).toContain('--rollback: the first stage has nothing to roll back to');
  });

  test('--help says so', async () => {
    const dir = selectorScript();
    expect((await runScript(dir, undefined, ['--help'])).stdout).toContain('(default: the stage before <from>: one stage back)');
  });
});

group('mr_wait_routes: every parent accepted the route\'s current generation', (test) => {
  const gateway = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra', sectionName: 'https' };
  const mesh = { group: '', kind: 'Service', name: 'web' };
  const wait = (dir: string, timeout = '0') => runHelper(dir, ['mr_wait_routes', timeout, 'shop', 'web']);

  test('Accepted and ResolvedRefs True at the current generation for each parent: done', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(3, [gateway, mesh], [parentStatus(gateway, 3), parentStatus(mesh, 3)]));
    const done = await wait(dir);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toBe('httproute web: every parent accepted the current generation (Accepted, ResolvedRefs)\n');
    expect(calls(dir)).toEqual(['kubectl get httproute.gateway.networking.k8s.io web -n shop -o json']);
  });

  test('a parentRef\'s unset group, kind and namespace are the Gateway API defaults (the route\'s namespace)', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(1, [{ name: 'public' }], [parentStatus({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'shop' }, 1)]));
    expect((await wait(dir)).status).toBe(0);
    writeJson(dir, 'route', route(1, [{ name: 'public' }], [parentStatus({ name: 'public', namespace: 'infra' }, 1)]));
    const other = await wait(dir);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('httproute/web (namespace shop, generation 1), parent Gateway shop/public: no status from this parent yet');
  });

  test('the conditions of the previous generation do not count', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 1)]));
    const stale = await wait(dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toBe('HTTPRoutes not accepted by every parent after 0 s:\n'
      + 'httproute/web (namespace shop, generation 2), parent Gateway infra/public section https: '
      + 'Accepted=True (Accepted, observedGeneration 1); ResolvedRefs=True (ResolvedRefs, observedGeneration 1)\n');
  });

  test('on timeout, prints each pending parent\'s conditions: NotAllowedByListeners, BackendNotFound, no status', async () => {
    const dir = tmpDir();
    const refused = parentStatus(gateway, 4, 'False', 'True', { accepted: ['NotAllowedByListeners', 'no listener of public allows routes from namespace shop'] });
    const unresolved = parentStatus(mesh, 4, 'True', 'False', { resolved: ['BackendNotFound', 'service shop/web-v2 not found'] });
    writeJson(dir, 'route', route(4, [gateway, mesh], [refused, unresolved]));
    const failed = await wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('parent Gateway infra/public section https: Accepted=False (NotAllowedByListeners: no listener of public allows routes from namespace shop, observedGeneration 4)');
    expect(failed.stderr).toContain('parent Service shop/web: Accepted=True (Accepted, observedGeneration 4); ResolvedRefs=False (BackendNotFound: service shop/web-v2 not found, observedGeneration 4)');
    writeJson(dir, 'route', route(1, [gateway, mesh]));
    expect((await wait(dir)).stderr).toContain('parent Service shop/web: no status from this parent yet');
    // A status for another listener of the Gateway is not one for this parentRef.
    writeJson(dir, 'route', route(1, [gateway], [parentStatus({ ...gateway, sectionName: 'http' }, 1)]));
    expect((await wait(dir)).stderr).toContain('parent Gateway infra/public section https: no status from this parent yet');
  });

  test('polls every second until the parents accepted', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route.1', route(2, [gateway], [parentStatus(gateway, 1)]));
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 2)]));
    const started = Date.now();
    expect((await wait(dir, '30')).status).toBe(0);
    expect(calls(dir)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('kubectl failing (no route), no jq, the current namespace (\'-\')', async () => {
    const dir = tmpDir();
    const failed = await wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('cannot read the HTTPRoutes');
    writeJson(dir, 'route', route(1, []));
    expect((await runHelper(dir, ['mr_wait_routes', '0', '-', 'web'])).status).toBe(0);
    expect(calls(dir).pop()).toBe('kubectl get httproute.gateway.networking.k8s.io web -o json');
    // A PATH with the fake kubectl and the tools the helpers use, but no jq.
    const tools = path.join(dir, 'tools');
    fs.mkdirSync(tools);
    for (const tool of ['bash', 'cat', 'sed', 'sleep', 'basename']) {
      fs.symlinkSync(run('bash', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(tools, tool));
    }
    const noJq = await runHelper(dir, ['mr_wait_routes', '0', 'shop', 'web'], { PATH: `${path.join(dir, 'bin')}:${tools}` });
    expect(noJq.status).toBe(1);
    expect(noJq.stderr).toBe("mr_wait_routes: jq not found; it reads the objects' status (install it, e.g. apt-get install -y jq)\n");
  });
});

group('mr_wait_endpoints: the EndpointSlices list exactly the ready pods the Service selects', (test) => {
  const wait = (dir: string, timeout = '0') => runHelper(dir, ['mr_wait_endpoints', timeout, 'shop', 'web']);

  test('every ready endpoint a pod of the selector, every ready pod listed: done (unready and terminating pods need not be)', async () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'pods', list([pod('web-v2-a', 'v2', true), pod('web-v2-b', 'v2', false), pod('web-v2-c', 'v2', true, { deletionTimestamp: '2025-01-01T00:00:00Z' })]));
    writeJson(dir, 'slices', slices([endpoint('web-v2-a', true), endpoint('web-v2-b', false)], [endpoint('web-v2-c', false)]));
    const done = await wait(dir);
    expect(done.stderr).toBe('');
    expect(done.stdout).toBe('service/web: its EndpointSlices list exactly the ready pods of app=web,version=v2\n');
    expect(calls(dir)).toEqual([
      'kubectl get service web -n shop -o json',
      'kubectl get pods -n shop -l app=web,version=v2 -o json',
      'kubectl get endpointslices.discovery.k8s.io -n shop -l kubernetes.io/service-name=web -o json',
    ]);
  });

  test('on timeout, names the ready endpoints of pods the Service no longer selects, and the ready pods not listed', async () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    // Unset `ready` is unknown, which consumers take as ready.
    writeJson(dir, 'slices', slices([endpoint('web-v1-a', undefined), endpoint('web-v2-a', true)]));
    const failed = await wait(dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe('service/web: EndpointSlices do not list exactly the ready pods it selects after 0 s:\n'
      + 'listed ready but not selected by app=web,version=v2: web-v1-a\n'
      + 'ready pods of app=web,version=v2 not listed ready yet: web-v2-b\n');
  });

  test('no ready endpoint, a Service without selector or missing: fails', async () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'pods', list([]));
    writeJson(dir, 'slices', list([]));
    expect((await wait(dir)).stderr).toContain('\nno ready endpoint\n');
    writeJson(dir, 'service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: {} });
    expect((await wait(dir)).stderr).toContain('\nservice/web has no selector\n');
    fs.rmSync(path.join(dir, 'service.json'));
    // kubectl's own error (here: the fake's cat of a missing file) says why.
    expect((await wait(dir)).stderr).toMatch(/\ncannot read service\/web: cat: .*service\.json: No such file or directory\n/);
  });

  test('polls every second until the slices follow the switch, saying what it waits for', async () => {
    const dir = tmpDir();
    endpointsOf(dir, 'v2');
    writeJson(dir, 'slices.1', slices([endpoint('web-v1-a', true), endpoint('web-v1-b', true)]));
    const done = await wait(dir, '30');
    expect(done.status).toBe(0);
    expect(calls(dir).filter((c) => c.startsWith('kubectl get endpointslices'))).toHaveLength(2);
    expect(done.stderr).toBe('waiting (at most 30 s) for service/web: listed ready but not selected by app=web,version=v2: web-v1-a, web-v1-b; '
      + 'ready pods of app=web,version=v2 not listed ready yet: web-v2-a, web-v2-b\n');
  });
});

group('timeouts users can shorten, and kubectl failures reported, not waited out', (test) => {
  const gateway = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra', sectionName: 'https' };
  /** A route whose parent refused it: it stays so. */
  const refused = () => route(2, [gateway], [parentStatus(gateway, 2, 'False', 'True', { accepted: ['NotAllowedByListeners', 'no listener allows it'] })]);
  /** A fake kubectl failing every read as kubectl does: discovery noise first, its error last. */
  const refusedBy = (reason: string) => 'if [ "$1" = get ]; then '
    + 'echo \'E1205 06:09:53.500143 memcache.go:265] "Unhandled Error" err="could not get the current server API group list"\' >&2; '
    + `echo '${reason}' >&2; exit 1; fi\n`;

  test('MESH_RELEASE_ROUTE_TIMEOUT (and the endpoint and Istio ones) replace the timeout of the runbook: a refused route fails at once', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route', refused());
    const started = Date.now();
    const failed = await runHelper(dir, ['mr_wait_routes', '120', 'shop', 'web'], { MESH_RELEASE_ROUTE_TIMEOUT: '0' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('HTTPRoutes not accepted by every parent after 0 s:\n'
      + 'httproute/web (namespace shop, generation 2), parent Gateway infra/public section https: Accepted=False (NotAllowedByListeners: no listener allows it');
    endpointsOf(dir, 'v2');
    writeJson(dir, 'slices', list([]));
    expect((await runHelper(dir, ['mr_wait_endpoints', '120', 'shop', 'web'], { MESH_RELEASE_ENDPOINTS_TIMEOUT: '0' })).stderr)
      .toMatch(/after 0 s:\n(.*\n)*no ready endpoint\n$/);
    const notNumber = await runHelper(dir, ['mr_wait_routes', '120', 'shop', 'web'], { MESH_RELEASE_ROUTE_TIMEOUT: '30s' });
    expect(notNumber.status).toBe(1);
    expect(notNumber.stderr).toBe("MESH_RELEASE_ROUTE_TIMEOUT must be a whole number of seconds, got '30s'\n");
    const proxies = await runHelper(dir, ['mr_wait_proxies', '120', 'shop', 'virtualservice.networking.istio.io/web'], { MESH_RELEASE_PROPAGATION_TIMEOUT: 'x' });
    expect(proxies.stderr).toBe("MESH_RELEASE_PROPAGATION_TIMEOUT must be a whole number of seconds, got 'x'\n");
  });

  test('a waiting route says what it waits for (once per change), then what was still pending', async () => {
    const dir = tmpDir();
    writeJson(dir, 'route', refused());
    const failed = await runHelper(dir, ['mr_wait_routes', '3', 'shop', 'web']);
    expect(failed.status).toBe(1);
    const lines = failed.stderr.split('\n');
    expect(lines[0]).toBe('waiting (at most 3 s) for: httproute/web (namespace shop, generation 2), parent Gateway infra/public section https: '
      + 'Accepted=False (NotAllowedByListeners: no listener allows it, observedGeneration 2); ResolvedRefs=True (ResolvedRefs, observedGeneration 2)');
    expect(lines.filter((l) => l.startsWith('waiting'))).toHaveLength(1);
    expect(lines[1]).toBe('HTTPRoutes not accepted by every parent after 3 s:');
  });

  test('an API server that refuses: each wait and the guard name kubectl\'s error (its last line)', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fail'), refusedBy('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?'));
    const refusedText = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?';
    expect((await runHelper(dir, ['mr_wait_routes', '0', 'shop', 'web'])).stderr).toBe(`HTTPRoutes not accepted by every parent after 0 s:\ncannot read the HTTPRoutes: ${refusedText}\n`);
    expect((await runHelper(dir, ['mr_wait_endpoints', '0', 'shop', 'web'])).stderr).toContain(`\ncannot read service/web: ${refusedText}\n`);
    expect((await runHelper(dir, ['mr_wait_replicas', 'web-v2', 'shop', '2', '0'])).stderr)
      .toBe(`deployment/web-v2: 0 ready pods after 0 s, below the floor of 2 (cannot read it: ${refusedText})\n`);
    const guard = await runHelper(dir, ['mr_expect_stage', 'shop', 'service/web', 'deploy', 'make-routable', 'deploy']);
    expect(guard.status).toBe(1);
    expect(guard.stderr).toBe(`cannot read the live stage of service/web (namespace shop): ${refusedText}\nnot applying stage 'deploy'\n`);
  });

  test('an API server that does not answer: each kubectl read is stopped after MESH_RELEASE_KUBECTL_TIMEOUT s', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fail'), 'exec sleep 30\n');
    // A `timeout` without --foreground (BusyBox): the plain one.
    const timeout = run('bash', ['-c', 'command -v timeout']).stdout.trim();
    const tools = path.join(dir, 'busybox');
    fs.mkdirSync(tools);
    fs.writeFileSync(path.join(tools, 'timeout'), '#!/usr/bin/env bash\nif [ "$1" = --foreground ]; then echo "timeout: unrecognized option" >&2; exit 1; fi\n'
      + `echo "timeout $*" >> ${JSON.stringify(path.join(dir, 'timeout.log'))}\nexec ${timeout} "$@"\n`, { mode: 0o755 });
    // The three hang side by side (each read waits out its second).
    const [hung, guard, plain] = await Promise.all([
      timed(() => runHelper(dir, ['mr_wait_routes', '0', 'shop', 'web'], { MESH_RELEASE_KUBECTL_TIMEOUT: '1' })),
      timed(() => runHelper(dir, ['mr_expect_stage', 'shop', 'service/web', 'deploy', 'make-routable', 'deploy'], { MESH_RELEASE_KUBECTL_TIMEOUT: '1' })),
      timed(() => runHelper(dir, ['mr_wait_routes', '0', 'shop', 'web'], { MESH_RELEASE_KUBECTL_TIMEOUT: '1', PATH: `${path.join(dir, 'bin')}:${tools}:${process.env.PATH}` })),
    ]);
    expect(hung.ms).toBeLessThan(10_000);
    expect(hung.stderr).toBe('HTTPRoutes not accepted by every parent after 0 s:\ncannot read the HTTPRoutes: kubectl did not answer within 1 s\n');
    expect(guard.ms).toBeLessThan(10_000);
    expect(guard.stderr).toContain('cannot read the live stage of service/web (namespace shop): kubectl did not answer within 1 s\n');
    expect(plain.ms).toBeLessThan(10_000);
    expect(plain.stderr).toBe('HTTPRoutes not accepted by every parent after 0 s:\ncannot read the HTTPRoutes: kubectl did not answer within 1 s\n');
    expect(fs.readFileSync(path.join(dir, 'timeout.log'), 'utf8')).toContain('timeout 1 kubectl get httproute.gateway.networking.k8s.io web -n shop -o json\n');
  });

  test('mr_wait_replicas: a Deployment that is not there fails at once; a short one says so while it waits', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fail'), refusedBy('Error from server (NotFound): deployments.apps "web-v2" not found'));
    const started = Date.now();
    const gone = await runHelper(dir, ['mr_wait_replicas', 'web-v2', 'shop', '2', '180']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toBe('deployment/web-v2: Error from server (NotFound): deployments.apps "web-v2" not found\n');
    fs.rmSync(path.join(dir, 'fail'));
    fs.writeFileSync(path.join(dir, 'ready-web-v2'), '1');
    // 3 s, not 1: bash's SECONDS ticks on the wall clock, and a first read on a busy machine can come after a 1 s deadline.
    const short = await runHelper(dir, ['mr_wait_replicas', 'web-v2', 'shop', '2', '3']);
    expect(short.status).toBe(1);
    expect(short.stderr).toBe('waiting (at most 3 s) for deployment/web-v2: 1 of 2 ready pods\ndeployment/web-v2: 1 ready pods after 3 s, below the floor of 2\n');
  });
});

group('the script: checks before anything is applied, and where it stopped', (test) => {
  test('a version that gets more traffic must have its floor of ready pods first: a switch to a version whose Deployment is gone applies nothing', async () => {
    const dir = script('service-selector');
    endpointsOf(dir, 'v2');
    fs.writeFileSync(path.join(dir, 'fail'), 'if [ "$1 $2 $3" = "get deployment web-v2" ]; then echo \'Error from server (NotFound): deployments.apps "web-v2" not found\' >&2; exit 1; fi\n');
    const gone = await runScript(dir, 'deploy', ['--from', 'shift-100']);
    expect(gone.status).toBe(1);
    expect(gone.applies).toEqual([]);
    expect(gone.stderr).toContain("mesh-release: stage 4 (shift-100) not started: 'mr_wait_replicas web-v2 shop 2 180' failed (exit 1); nothing of it was applied.\n");
    // Its pods come back: the switch waits for them, then applies.
    fs.writeFileSync(path.join(dir, 'fail'), 'if [ "$1 $2 $3" = "get deployment web-v2" ] && [ ! -f "$dir/once" ]; then touch "$dir/once"; echo 1; exit 0; fi\n');
    const back = await runScript(dir, 'deploy', ['--from', 'shift-100', '--to', 'shift-100']);
    expect(back.status).toBe(0);
    expect(back.calls.slice(0, 3)).toEqual(['kubectl get deployment web-v2 -n shop -o jsonpath={.status.readyReplicas}',
      'kubectl get deployment web-v2 -n shop -o jsonpath={.status.readyReplicas}', 'kubectl get service/web -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}']);
    expect(back.applies).toEqual(['kubectl apply -f stages/04-shift-100/']);
  });

  test('a wait that fails after the apply: the script says the stage was applied, where it stopped, and how to go on or back', async () => {
    const dir = script('gamma');
    const gateway = { group: '', kind: 'Service', name: 'web' };
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 2, 'True', 'False', { resolved: ['BackendNotFound', 'service shop/web-v2 not found'] })]));
    const failed = await runScript(dir, 'deploy', ['--from', 'shift-10'], { MESH_RELEASE_ROUTE_TIMEOUT: '0' });
    expect(failed.status).toBe(1);
    expect(failed.applies).toEqual(['kubectl apply -f stages/04-shift-10/']);
    const runbook = path.join(dir, 'runbook.sh');
    expect(failed.stderr).toContain('ResolvedRefs=False (BackendNotFound: service shop/web-v2 not found, observedGeneration 2)\n'
      + "mesh-release: stage 4 (shift-10) was applied but stopped at 'mr_wait_routes 120 shop web' (exit 1).\n"
      + `Fix the cause, then run it again (applying a stage again is safe): ${runbook} --from shift-10\n`
      + `or roll it back: ${runbook} --rollback --from shift-10\n`);
    const back = await runScript(dir, 'shift-10', ['--rollback', '--from', 'shift-10'], { MESH_RELEASE_ROUTE_TIMEOUT: '0' });
    expect(back.status).toBe(1);
    expect(back.stderr).toContain("mesh-release: the roll back of stage 4 (shift-10) was applied but stopped at 'mr_wait_routes 120 shop web' (exit 1).\n"
      + `Fix the cause, then run it again: ${runbook} --rollback --from shift-10\n`);
    const refused = await runScript(dir, 'stable', ['--from', 'shift-10']);
    expect(refused.stderr).toContain("mesh-release: stage 4 (shift-10) not started: 'mr_expect_stage shop httproute.gateway.networking.k8s.io/web shift-10 deploy shift-10' failed (exit 1); "
      + 'nothing of it was applied.\n');
    // A run that ends well says nothing more.
    writeJson(dir, 'route', route(2, [gateway], [parentStatus(gateway, 2)]));
    const ok = await runScript(dir, 'deploy', ['--from', 'shift-10', '--to', 'shift-10']);
    expect(ok.status).toBe(0);
    expect(ok.stderr).not.toContain('mesh-release:');
  });

  test('without jq (needed by a route or endpoint wait) or kubectl, nothing starts', async () => {
    const dir = script('gamma');
    const tools = path.join(dir, 'tools');
    fs.mkdirSync(tools);
    for (const tool of ['bash', 'cat', 'sed', 'sleep', 'basename', 'dirname', 'mktemp', 'rm', 'timeout']) {
      fs.symlinkSync(run('bash', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(tools, tool));
    }
    const noJq = await runScript(dir, undefined, [], { PATH: `${path.join(dir, 'bin')}:${tools}` });
    expect(noJq.status).toBe(1);
    expect(noJq.calls).toEqual([]);
    expect(noJq.stderr).toBe("this runbook (its route and endpoint waits): jq not found; it reads the objects' status (install it, e.g. apt-get install -y jq)\n");
    const noKubectl = run('bash', [path.join(dir, 'runbook.sh')], { env: { ...process.env, PATH: tools } });
    expect(noKubectl.status).toBe(1);
    expect(noKubectl.stderr).toBe('kubectl not found: this runbook applies the stages with it\n');
    // Istio waits need no jq: its runbook does not ask for it.
    expect(fs.readFileSync(path.join(script('istio'), 'runbook.sh'), 'utf8')).not.toContain('mr_need_jq "this runbook');
  });

  test('a stage is named first, numbered second: a stage named \'1\' is that stage, not the first', async () => {
    const dir = tmpDir();
    const plan = ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: '1', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: '2', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    ]);
    fs.writeFileSync(path.join(dir, 'runbook.sh'), renderScript(planOf(dir, plan, [{ app: 'web', router: 'istio' }]), dir), { mode: 0o755 });
    expect((await runScript(dir, 'stable', ['--from', '1', '--to', '1'], { MESH_RELEASE_ISTIO_STATUS: '1' })).applies).toEqual(['kubectl apply -f stages/02-1/']);
    expect((await runScript(dir, '1', ['--from', '3'], { MESH_RELEASE_ISTIO_STATUS: '1' })).applies).toEqual(['kubectl apply -f stages/03-2/']);
    expect((await runScript(dir, '2', ['--rollback', '--from', '2'], { MESH_RELEASE_ISTIO_STATUS: '1' })).applies).toEqual(['kubectl apply -f stages/02-1/']);
  });
});

describe('a version whose floor rises as it gets more traffic (issue 20)', () => {
  test('rolled back, the script applies its workload objects alone (kubectl apply -l), waits for its floor, then the stage', async () => {
    const dir = tmpDir();
    const all = [{ version: 'v1', weight: 100 }];
    const plan = ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: all },
      { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: all },
      { name: 'deploy', deployed: ['v1', 'v2'], weights: all },
      { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
    ]);
    // v1: 10 pods at 100%, 2 at 10% (fixed replicas, scaled down mid-plan).
    const versionsOf = (stage: string) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(stage === 'shift-90' ? 2 : 10) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
    ];
    fs.writeFileSync(path.join(dir, 'runbook.sh'), renderScript(planOf(dir, plan, [{ app: 'web', router: 'istio' }], versionsOf), dir), { mode: 0o755 });
    const back = await runScript(dir, 'shift-90', ['--rollback', '--from', 'shift-90'], { MESH_RELEASE_ISTIO_STATUS: '1' });
    expect(back.status).toBe(0);
    expect(back.calls.filter((c) => !c.startsWith('kubectl wait '))).toEqual([
      'kubectl get virtualservice.networking.istio.io/web -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}',
      'kubectl apply -f stages/03-deploy/ -l app=web,version=v1',
      'kubectl get deployment web-v1 -n shop -o jsonpath={.status.readyReplicas}',
      'kubectl apply -f stages/03-deploy/',
    ]);
    expect(fs.readFileSync(path.join(dir, 'runbook.sh'), 'utf8')).toContain('  # before web v1 gets more traffic: scale it first, from a floor of 2 to 10 pods '
      + '(Deployment/web-v1, PodDisruptionBudget/web-v1: the objects labelled app=web,version=v1, nothing that routes)\n'
      + '  mr_run kubectl apply -f stages/03-deploy/ -l app=web,version=v1\n');
  });

  test('forward, v1 losing its share and 8 of its 10 pods: the script applies the stage without v1\'s objects, waits for the proxies, then scales v1 down', async () => {
    const dir = tmpDir();
    const all = [{ version: 'v1', weight: 100 }];
    const plan = ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: all },
      { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: all },
      { name: 'deploy', deployed: ['v1', 'v2'], weights: all },
      { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
    ]);
    const versionsOf = (stage: string) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(stage === 'shift-90' ? 2 : 10) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
    ];
    fs.writeFileSync(path.join(dir, 'runbook.sh'), renderScript(planOf(dir, plan, [{ app: 'web', router: 'istio' }], versionsOf), dir), { mode: 0o755 });
    const forward = await runScript(dir, 'deploy', ['--from', 'shift-90'], { MESH_RELEASE_ISTIO_STATUS: '1' });
    expect(forward.status).toBe(0);
    expect(forward.calls).toEqual([
      'kubectl get deployment web-v2 -n shop -o jsonpath={.status.readyReplicas}',
      'kubectl get virtualservice.networking.istio.io/web -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}',
      'kubectl apply -f stages/04-shift-90/ -l version notin (v1)',
      'kubectl wait --for=condition=Reconciled -n shop virtualservice.networking.istio.io/web --timeout=120s',
      'kubectl apply -f stages/04-shift-90/ -l app=web,version=v1',
    ]);
  });
});
