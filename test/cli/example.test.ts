/**
 * The bundled example, end to end: `plan` synthesizes it ONCE (one app process for all stages); every
 * other test reads that output (`--stages`): the JSON plan, the check of its stages, and the runbooks,
 * whose script is run against a fake kubectl and istioctl that record their calls (the kubectl answers the
 * guard with the stage applied last, and the route wait with an HTTPRoute its parent accepted). Two releases follow
 * RELEASE_STAGE with the same plan: helloworld (Istio, namespace shop) and reviews (Gateway API HTTPRoute
 * with per-version Services, namespace bookinfo); ratings stays at pin-v3.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cli, cliBuild, cliInProcess, EXAMPLE, run, Run, tmpDir } from './_cli';

const STAGES = ['stable', 'make-routable', 'deploy', 'shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable', 'retire'];
/** What retire drops: every v1 object of both releases, `<resource> -n <namespace>`. */
const V1_OBJECTS = ['helloworld-v1 -n shop', 'reviews-v1 -n bookinfo']
  .flatMap((o) => ['deployment', 'horizontalpodautoscaler', 'poddisruptionbudget'].map((kind) => `${kind}/${o}`));

let dir: string;
let out: string;
let plan: Run;
beforeAll(() => {
  cliBuild();
  dir = tmpDir();
  out = path.join(dir, 'stages');
  plan = cli(['plan', '--app', EXAMPLE, '--out', out, '--diff']);
}, 300_000);

describe('plan on examples/helloworld', () => {
  test('exits 0 and picks helloworld and reviews, the releases RELEASE_STAGE drives (ratings is fixed at pin-v3), in one process', () => {
    expect(plan.stderr).not.toContain('error');
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('Release plan of helloworld in namespace shop, reviews in namespace bookinfo');
    expect(plan.stderr).toContain('in one process');
    expect(plan.stderr).toContain('probing RELEASE_STAGE=stable (plan of helloworld, reviews)');
  });

  test('writes one directory of YAML per stage, 01-stable ... 09-retire, and its marker', () => {
    expect(fs.readdirSync(out).sort()).toEqual(['.mesh-release.json', ...STAGES.map((s, i) => `0${i + 1}-${s}`)]);
    STAGES.forEach((stage, i) => {
      const files = fs.readdirSync(path.join(out, `0${i + 1}-${stage}`)).filter((f) => f.endsWith('.yaml'));
      expect(files).not.toHaveLength(0);
      expect(fs.readFileSync(path.join(out, `0${i + 1}-${stage}`, files[0]), 'utf8')).toContain(`mesh-release.io/stage: ${stage}`);
    });
    expect(plan.stdout).toContain(`9 stages written to ${out}${path.sep} (01-stable … 09-retire)`);
  });

  test('prints one row per stage: deployments, routable versions, weight bars, changes and the verdict', () => {
    const rows = plan.stdout.split('\n').filter((line) => /^0[1-9] {2}/.test(line));
    expect(rows).toHaveLength(9);
    rows.forEach((row, i) => expect(row).toMatch(new RegExp(`^0${i + 1} {2}${STAGES[i]} .* OK$`)));
    expect(plan.stdout).toMatch(/catch-all route weights +changes +safety/);
    // Istio subsets and Gateway API per-version Services alike are the routable versions.
    expect(rows[0]).toMatch(/stable +helloworld: v1; reviews: v1 +helloworld: v1; reviews: v1 +helloworld: v1 ██████████ 100; reviews: v1 ██████████ 100 +\+26 +OK$/);
    expect(rows[1]).toMatch(/make-routable +helloworld: v1; reviews: v1 +helloworld: v1, v2; reviews: v1, v2 .* \+1 ~1 +OK$/);
    expect(rows[2]).toMatch(/deploy +helloworld: v1, v2; reviews: v1, v2 .* \+6 +OK$/);
    expect(rows[3]).toContain('helloworld: v1 █████████░  90  v2 █░░░░░░░░░  10; reviews: v1 █████████░  90  v2 █░░░░░░░░░  10');
    expect(rows[5]).toContain('v1 ░░░░░░░░░░   0  v2 ██████████ 100');
    expect(rows[7]).toMatch(/drop-routable .* ~1 -1 +OK$/);
    expect(rows[8]).toMatch(/retire +helloworld: v2; reviews: v2 .* -6 +OK$/);
    expect(plan.stdout).toContain('OK: every stage is safe to apply after the one before it.');
  });

  test('--diff lists what each stage creates, changes and deletes', () => {
    expect(plan.stdout).toContain('Stage 02-make-routable:\n  + Service/reviews-v2 (bookinfo)\n  ~ DestinationRule/helloworld (shop)\n');
    expect(plan.stdout).toContain('Stage 08-drop-routable:\n  ~ DestinationRule/helloworld (shop)\n  - Service/reviews-v1 (bookinfo)\n');
    expect(plan.stdout).toContain('Stage 09-retire:\n  - Deployment/helloworld-v1 (shop)\n  - HorizontalPodAutoscaler/helloworld-v1 (shop)\n'
      + '  - PodDisruptionBudget/helloworld-v1 (shop)\n  - Deployment/reviews-v1 (bookinfo)\n');
  });

  test('plan --stages --output json: the same plan, machine-readable, without running the app again', async () => {
    const json = await cliInProcess(['plan', '--stages', out, '--output', 'json']);
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.safe).toBe(true);
    expect(parsed.releases).toEqual([
      expect.objectContaining({ name: 'helloworld', namespace: 'shop', kind: 'VirtualService', plan: STAGES }),
      expect.objectContaining({ name: 'reviews', namespace: 'bookinfo', kind: 'HTTPRoute', plan: STAGES }),
    ]);
    const retire = parsed.stages[8];
    expect(retire.changes.deleted.map((r: any) => `${r.kind}/${r.name}`)).toEqual([
      'Deployment/helloworld-v1', 'HorizontalPodAutoscaler/helloworld-v1', 'PodDisruptionBudget/helloworld-v1',
      'Deployment/reviews-v1', 'HorizontalPodAutoscaler/reviews-v1', 'PodDisruptionBudget/reviews-v1',
    ]);
    expect(retire.rollback.created).toHaveLength(6);
    expect(parsed.stages[7].changes.deleted).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'reviews-v1', namespace: 'bookinfo' }]);
    for (const release of parsed.stages[3].releases) {
      expect(release).toMatchObject({ deployed: ['v1', 'v2'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 90 }, { version: 'v2', weight: 10 }] });
    }
  });

  test('check accepts consecutive stages and rejects skipping the deploy stage', async () => {
    const ok = await cliInProcess(['check', path.join(out, '03-deploy'), path.join(out, '04-shift-10')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^OK: no violations \(\d+ objects checked\)/);
    const skipped = await cliInProcess(['check', path.join(out, '02-make-routable'), path.join(out, '04-shift-10')]);
    expect(skipped.status).toBe(1);
    expect(skipped.stdout).toContain('error: VirtualService/helloworld http[0]  [destination-ready]');
  });
});

/** The runbook section of a stage, from its heading to the next one. */
function section(runbook: string, stage: string): string {
  const start = runbook.search(new RegExp(`^## \\d+\\. ${stage}$`, 'm'));
  expect(start).toBeGreaterThanOrEqual(0);
  const next = runbook.slice(start + 1).search(/^## /m);
  return next < 0 ? runbook.slice(start) : runbook.slice(start, start + 1 + next);
}

describe('runbook (Markdown) of the example', () => {
  let runbook: string;
  beforeAll(async () => {
    const result = await cliInProcess(['runbook', '--stages', out, '--file', path.join(dir, 'RUNBOOK.md')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Runbook written to ${path.join(dir, 'RUNBOOK.md')}`);
    runbook = fs.readFileSync(path.join(dir, 'RUNBOOK.md'), 'utf8');
  }, 60_000);

  test('has the kubectl apply command of every stage, relative to the runbook, after the guard of both releases, and the helpers', () => {
    STAGES.forEach((stage, i) => expect(section(runbook, stage)).toContain(`\nkubectl apply -f stages/0${i + 1}-${stage}/\n`));
    expect(section(runbook, 'shift-10').split('Roll back')[0]).toContain('\nmr_expect_stage shop virtualservice.networking.istio.io/helloworld shift-10 deploy shift-10\n'
      + '# the live stage of HTTPRoute/reviews: deploy or shift-10 (else refuse; --force skips this check)\n'
      + 'mr_expect_stage bookinfo httproute.gateway.networking.k8s.io/reviews shift-10 deploy shift-10\n'
      + '# create and change the objects of the stage\nkubectl apply -f stages/04-shift-10/\n');
    expect(runbook).toContain('mr_wait_replicas() {');
    expect(runbook).toContain('mr_wait_proxies() {');
  });

  test('waits for new Deployments (progress deadline + 60 s) and their autoscaler floors, in their namespace', () => {
    const deploy = section(runbook, 'deploy');
    expect(deploy).toContain('kubectl rollout status deployment/helloworld-v2 -n shop --timeout=180s');
    expect(deploy).toContain('mr_wait_replicas helloworld-v2 shop 2 180');
    expect(deploy.split('```bash')[1]).not.toContain('helloworld-v1');
  });

  test('retire deletes every v1 object by name, then waits for its pods to be gone', () => {
    const retire = section(runbook, 'retire').split('Roll back')[0];
    for (const object of V1_OBJECTS) {
      expect(retire).toContain(`kubectl delete ${object} --ignore-not-found --wait=true --timeout=90s`);
    }
    expect(retire).toContain('kubectl wait --for=delete pod -n shop -l app=helloworld,version=v1 --timeout=120s');
    expect(retire).toContain('kubectl wait --for=delete pod -n bookinfo -l app=reviews,version=v1 --timeout=120s');
    // The Gateway API router's per-version Service of v1 goes one stage earlier, once no route names it.
    expect(section(runbook, 'drop-routable').split('Roll back')[0]).toContain('kubectl delete service/reviews-v1 -n bookinfo --ignore-not-found');
  });

  test('waits for Envoy propagation (blocking) only where Istio objects change, for the HTTPRoute\'s parents where it changes', () => {
    expect(section(runbook, 'shift-10')).toContain('mr_wait_proxies 120 shop virtualservice.networking.istio.io/helloworld');
    expect(section(runbook, 'shift-10')).toContain('mr_wait_routes 120 bookinfo reviews');
    expect(section(runbook, 'make-routable').split('Roll back')[0]).not.toContain('mr_wait_routes');
    expect(section(runbook, 'make-routable')).toContain('mr_wait_proxies 120 shop destinationrule.networking.istio.io/helloworld');
    expect(section(runbook, 'deploy').split('Roll back')[0]).not.toContain('mr_wait_proxies');
    // drop-routable deletes the per-version Service of reviews v1 (plain Kubernetes): no Istio wait for it.
    expect(section(runbook, 'drop-routable').split('Roll back')[0].match(/mr_wait_proxies .*/g)).toEqual(['mr_wait_proxies 120 shop destinationrule.networking.istio.io/helloworld']);
    expect(runbook).toContain('`STALE`');
    expect(runbook).toContain('istioctl x wait` was removed in Istio 1.23');
  });

  test('rolls back each stage with the same changes in reverse and the same waits', () => {
    expect(section(runbook, 'stable')).toContain('Roll back: nothing to roll back (first stage).');
    const deployBack = section(runbook, 'deploy').split('Roll back to stage 2 (make-routable):')[1];
    expect(deployBack).toContain('kubectl apply -f stages/02-make-routable/');
    expect(deployBack).toContain('kubectl delete deployment/helloworld-v2 -n shop');
    const retireBack = section(runbook, 'retire').split('Roll back to stage 8 (drop-routable):')[1];
    expect(retireBack).toContain('kubectl apply -f stages/08-drop-routable/');
    expect(retireBack).toContain('kubectl rollout status deployment/helloworld-v1 -n shop --timeout=180s');
    expect(retireBack).toContain('mr_wait_replicas helloworld-v1 shop 2 180');
    expect(runbook).not.toContain('unsafe');
  });

  test('charts the weights per version over the stages in a mermaid block', () => {
    expect(runbook).toContain('```mermaid\nxychart-beta\n');
    expect(runbook).toContain(`x-axis [${STAGES.map((s) => `"${s}"`).join(', ')}]`);
    expect(runbook).toContain('line [100, 100, 100, 90, 50, 0, 0, 0, 0]');
    expect(runbook).toContain('line [0, 0, 0, 10, 50, 100, 100, 100, 100]');
  });
});

describe('runbook --format sh of the example', () => {
  let script: string;
  let scriptFile: string;
  /** A bin directory with fake kubectl and istioctl that append their arguments to $MR_LOG. */
  let bin: string;
  beforeAll(async () => {
    scriptFile = path.join(dir, 'runbook.sh');
    const result = await cliInProcess(['runbook', '--stages', out, '--format', 'sh', '--file', scriptFile]);
    expect(result.status).toBe(0);
    script = fs.readFileSync(scriptFile, 'utf8');
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'kubectl'), kubectl(''), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'istioctl'), '#!/usr/bin/env bash\necho "istioctl $*" >> "$MR_LOG"\n'
      + 'printf "NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION\\nhelloworld-v1-x.shop Kubernetes SYNCED SYNCED SYNCED SYNCED NOT SENT istiod-1 1.30.0\\n"\n', { mode: 0o755 });
  }, 60_000);

  /**
   * A fake kubectl: records its calls in $MR_LOG; `apply -f .../<NN>-<stage>/` makes <stage> the live one ($MR_LOG.live), which
   * it prints for the guard's read; an HTTPRoute whose parent accepted its generation; 10 ready replicas; `extra` runs first.
   */
  function kubectl(extra: string): string {
    const accepted = { type: 'Accepted', status: 'True', observedGeneration: 2 };
    const parentRef = { group: '', kind: 'Service', name: 'reviews' };
    const parents = [{ parentRef, conditions: [accepted, { ...accepted, type: 'ResolvedRefs' }] }];
    const httpRoute = { kind: 'HTTPRoute', metadata: { name: 'reviews', namespace: 'bookinfo', generation: 2 }, spec: { parentRefs: [parentRef] }, status: { parents } };
    return `#!/usr/bin/env bash\necho "kubectl $*" >> "$MR_LOG"\n${extra}
case "$*" in
  "apply -f "*) basename "$3" | sed 's/^[0-9]*-//' > "$MR_LOG.live" ;;
  *"jsonpath={.metadata.name}/"*) if [ -f "$MR_LOG.live" ]; then printf 'x/%s' "$(cat "$MR_LOG.live")"; fi ;;
  "get httproute."*) echo '${JSON.stringify(httpRoute)}' ;;
  "get "*) echo 10 ;;
esac
`;
  }

  /** Runs the script with the fake tools, `live` the stage applied last (none: a fresh cluster); returns the calls recorded, in order. */
  function runScript(live: string | undefined, ...args: string[]): { result: Run; calls: string[] } {
    const log = path.join(dir, `calls-${Math.random().toString(36).slice(2)}.log`);
    fs.writeFileSync(log, '');
    if (live) {
      fs.writeFileSync(`${log}.live`, live);
    }
    const result = run(scriptFile, args, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MR_LOG: log, MESH_RELEASE_DWELL: '0' }, cwd: '/' });
    return { result, calls: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  }

  test('is executable bash: set -euo pipefail, one function per stage and per roll back, bash -n passes', () => {
    expect(() => fs.accessSync(scriptFile, fs.constants.X_OK)).not.toThrow();
    expect(script).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(script).toContain('\nset -euo pipefail\n');
    STAGES.forEach((_, i) => expect(script).toContain(`\nstage_0${i + 1}() {\n`));
    STAGES.slice(1).forEach((_, i) => expect(script).toContain(`\nrollback_0${i + 2}() {\n`));
    const syntax = run('bash', ['-n', scriptFile]);
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });

  // Issue 19 item 10: the usage said ./runbook.sh whatever --file named the script.
  test.each([
    ['release-reviews.sh', './release-reviews.sh'],
    ['release reviews.sh', "'./release reviews.sh'"],
    ['release\nreviews.sh', "$'./release\\x0areviews.sh'"],
  ])('--file %j: its usage names the script as written (%s)', async (name, shown) => {
    const file = path.join(tmpDir(), name);
    expect((await cliInProcess(['runbook', '--stages', out, '--format', 'sh', '--file', file])).status).toBe(0);
    const help = run(file, ['--help'], { cwd: '/' });
    expect(help.status).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe(`Usage: ${shown} [--from <stage>] [--to <stage>] [--force]`);
    expect(help.stdout).toContain(`       ${shown} --rollback --from <stage> [--to <stage>] [--force]\n`);
    expect(help.stdout).toContain(`       ${shown} --list\n`);
    expect(help.stdout).not.toContain('runbook.sh');
    expect(run('bash', ['-n', file]).status).toBe(0);
  });

  test('passes shellcheck', () => {
    const version = run('shellcheck', ['--version']);
    if (version.status !== 0) {
      // CI installs it (.ci/run: apt-get install -y shellcheck); only a local machine without it skips.
      console.warn('shellcheck is not installed: skipping the shellcheck test (apt-get install -y shellcheck)');
      expect(process.env.CI).toBeUndefined();
      return;
    }
    const check = run('shellcheck', ['--severity=style', scriptFile]);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('every command is an apply, a delete that waits, or a blocking wait with a timeout', () => {
    const commands = [...script.matchAll(/^ {2}mr_run (.*)$/gm)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(40);
    const forms = [
      /^kubectl apply -f \S+\/$/,
      /^kubectl delete [a-z.]+\/[a-z0-9-]+ -n [a-z]+ --ignore-not-found --wait=true --timeout=\d+s$/,
      /^kubectl rollout status deployment\/[a-z0-9-]+ -n [a-z]+ --timeout=\d+s$/,
      /^kubectl wait --for=delete pod -n [a-z]+ -l [a-z0-9=,-]+ --timeout=\d+s$/,
      /^mr_wait_replicas [a-z0-9-]+ [a-z]+ \d+ \d+$/,
      /^mr_wait_proxies \d+( [a-z]+ [a-z.]+\/[a-z0-9-]+)*$/,
      /^mr_wait_routes \d+ [a-z]+( [a-z0-9-]+)+$/,
      /^mr_expect_stage [a-z]+ [a-z0-9.]+\/[a-z0-9-]+ [a-z0-9-]+( [a-z0-9-]+){1,2}$/,
    ];
    expect(commands.filter((c) => !forms.some((f) => f.test(c)))).toEqual([]);
    // Stage and roll-back functions run nothing else (no bare sleep, no unguarded command).
    const bodies = [...script.matchAll(/^(?:stage|rollback)_\d+\(\) \{\n([\s\S]*?)^\}/gm)].map((m) => m[1]);
    expect(bodies).toHaveLength(STAGES.length * 2 - 1);
    const lines = bodies.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.filter((l) => !l.startsWith('mr_run ') && !l.startsWith('echo "==> '))).toEqual([]);
  });

  test('run against a fake kubectl: every stage in order; after retire, a delete of every v1 object was issued', () => {
    const { result, calls } = runScript(undefined);
    expect(result.stderr).not.toContain('unknown');
    expect(result.status).toBe(0);
    const applies = calls.filter((c) => c.startsWith('kubectl apply'));
    expect(applies).toEqual(STAGES.map((s, i) => `kubectl apply -f stages/0${i + 1}-${s}/`));
    const retire = calls.indexOf('kubectl apply -f stages/09-retire/');
    const after = calls.slice(retire + 1);
    for (const object of V1_OBJECTS) {
      expect(after).toContain(`kubectl delete ${object} --ignore-not-found --wait=true --timeout=90s`);
    }
    expect(after.slice(-3)).toEqual([
      'kubectl wait --for=delete pod -n shop -l app=helloworld,version=v1 --timeout=120s',
      'kubectl delete deployment/reviews-v1 -n bookinfo --ignore-not-found --wait=true --timeout=90s',
      'kubectl wait --for=delete pod -n bookinfo -l app=reviews,version=v1 --timeout=120s',
    ]);
    // Before retire, only the per-version Service of reviews v1 goes (drop-routable), after that stage's apply.
    const before = calls.slice(0, retire);
    expect(before.filter((c) => c.startsWith('kubectl delete'))).toEqual(['kubectl delete service/reviews-v1 -n bookinfo --ignore-not-found --wait=true --timeout=90s']);
    expect(before.indexOf('kubectl delete service/reviews-v1 -n bookinfo --ignore-not-found --wait=true --timeout=90s'))
      .toBeGreaterThan(before.indexOf('kubectl apply -f stages/08-drop-routable/'));
    // The floors are polled (readyReplicas >= floor), the proxies until none is STALE.
    expect(calls).toContain('kubectl get deployment helloworld-v2 -n shop -o jsonpath={.status.readyReplicas}');
    expect(calls.filter((c) => c === 'istioctl proxy-status').length).toBeGreaterThanOrEqual(6);
    // Each stage read the live stage of both releases first; the HTTPRoute's parents were polled after its changes.
    expect(calls[0]).toBe('kubectl get virtualservice.networking.istio.io/helloworld -n shop --ignore-not-found -o jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}');
    expect(calls.filter((c) => c.includes('jsonpath={.metadata.name}/'))).toHaveLength(STAGES.length * 2);
    expect(calls.filter((c) => c === 'kubectl get httproute.gateway.networking.k8s.io reviews -n bookinfo -o json')).toHaveLength(5);
  });

  test('--from/--to run a range; --rollback goes back stage by stage (one stage without --to), deleting what each stage created', () => {
    const range = runScript('make-routable', '--from', 'deploy', '--to', '4');
    expect(range.result.status).toBe(0);
    expect(range.calls.filter((c) => c.startsWith('kubectl apply'))).toEqual(['kubectl apply -f stages/03-deploy/', 'kubectl apply -f stages/04-shift-10/']);
    const back = runScript('shift-10', '--rollback', '--from', 'shift-10', '--to', 'make-routable');
    expect(back.result.status).toBe(0);
    const del = (o: string) => `kubectl delete ${o} --ignore-not-found --wait=true --timeout=90s`;
    expect(back.calls.filter((c) => /^kubectl (apply|delete)/.test(c))).toEqual([
      'kubectl apply -f stages/03-deploy/',
      'kubectl apply -f stages/02-make-routable/',
      del('horizontalpodautoscaler/helloworld-v2 -n shop'), del('horizontalpodautoscaler/reviews-v2 -n bookinfo'),
      del('poddisruptionbudget/helloworld-v2 -n shop'), del('poddisruptionbudget/reviews-v2 -n bookinfo'),
      del('deployment/helloworld-v2 -n shop'), del('deployment/reviews-v2 -n bookinfo'),
    ]);
    const retireBack = runScript('retire', '--rollback', '--from', 'retire');
    expect(retireBack.calls).toEqual(expect.arrayContaining([
      'kubectl apply -f stages/08-drop-routable/',
      'kubectl rollout status deployment/helloworld-v1 -n shop --timeout=180s',
      'kubectl get deployment helloworld-v1 -n shop -o jsonpath={.status.readyReplicas}',
    ]));
    expect(retireBack.calls.filter((c) => c.startsWith('kubectl apply'))).toEqual(['kubectl apply -f stages/08-drop-routable/']);
    const wrongStart = runScript('shift-10', '--from', 'shift-100');
    expect(wrongStart.result.status).toBe(1);
    expect(wrongStart.result.stderr).toContain("refusing to apply stage 'shift-100': virtualservice.networking.istio.io/helloworld (namespace shop) is at stage 'shift-10', "
      + "expected 'shift-50' or 'shift-100'.");
    expect(wrongStart.calls.filter((c) => c.startsWith('kubectl apply'))).toEqual([]);
    expect(runScript(undefined, '--from', 'nope').result.status).toBe(2);
    expect(runScript(undefined, '--rollback').result.status).toBe(2);
    expect(runScript(undefined, '--list').result.stdout).toBe(STAGES.map((s, i) => `${i + 1} ${s}`).join('\n') + '\n');
  });

  test('a stage whose wait fails stops the script (set -e): nothing after it runs', () => {
    fs.writeFileSync(path.join(bin, 'kubectl'), kubectl('if [ "$1" = rollout ]; then exit 1; fi'), { mode: 0o755 });
    try {
      const { result, calls } = runScript('make-routable', '--from', 'deploy');
      expect(result.status).not.toBe(0);
      expect(calls.filter((c) => !c.includes('jsonpath={.metadata.name}/'))).toEqual([
        'kubectl apply -f stages/03-deploy/', 'kubectl rollout status deployment/helloworld-v2 -n shop --timeout=180s',
      ]);
    } finally {
      fs.writeFileSync(path.join(bin, 'kubectl'), kubectl(''), { mode: 0o755 });
    }
  });
});
