/**
 * Random releases through the API server (issue 17): a release the library lets synthesize must be one a real
 * cluster accepts. fast-check draws releases of all three routers (_random-releases.ts: Istio with hosts, gateways,
 * retries, timeout, traffic policies, a mirror and header routes of every match type; the Gateway API with Gateways,
 * sections, hostnames, an ambient waypoint and experimental retries; the selector switch), plans of every shape and
 * workload options at their edges. Each stage (a random subset of long plans) is built in a fresh App and chart and
 * synthesized; then either the library refused it with a clear error (an Error naming the construct path and prop, or
 * the stage or plan field), or every object is dry-run on the API server (server-side apply, strict field
 * validation) and none may be refused.
 *
 * Two control planes: Gateway API 1.6.1 standard channel (every release) and experimental channel (the HTTPRoutes of
 * every Gateway API release, and all objects of those with `experimentalRetries`, whose `retry` field only the
 * experimental CRD has). Replay a run with MESH_RELEASE_SEED=<seed> (printed in the summary); MESH_RELEASE_RUNS sets
 * the number of releases (200: about 30 s on 2 cores, plus 15 s to start the control planes); MESH_RELEASE_VERBOSE=1
 * also prints what the refusals named.
 */
import * as fc from 'fast-check';
import { ControlPlane, describeWithControlPlane } from './_control-plane';
import { brief, buildPlan, classifyRefusal, describeRelease, NAMESPACES, RandomRelease, randomRelease, stagesToBuild, synthesizeStage } from './_random-releases';
import { dryRunStage, Refusal } from './_stages';

const RUNS = Number(process.env.MESH_RELEASE_RUNS ?? 200);
const SEED = process.env.MESH_RELEASE_SEED ? Number(process.env.MESH_RELEASE_SEED) : Math.floor(Math.random() * 2 ** 31);
/** To look past an escape already reported: refusals whose message matches this regular expression are counted, not failed. */
const IGNORED = process.env.MESH_RELEASE_IGNORE ? new RegExp(process.env.MESH_RELEASE_IGNORE) : undefined;

describeWithControlPlane('random releases: refused at synth with a clear error, or accepted by the API server', () => {
  let standard: ControlPlane;
  let experimental: ControlPlane;
  let startSeconds = 0;

  beforeAll(async () => {
    const started = Date.now();
    [standard, experimental] = await Promise.all([ControlPlane.start(), ControlPlane.start({ gatewayApiChannel: 'experimental' })]);
    await Promise.all([standard.createNamespaces(...NAMESPACES.filter((n) => n !== 'default')),
      experimental.createNamespaces(...NAMESPACES.filter((n) => n !== 'default'))]);
    startSeconds = (Date.now() - started) / 1000;
  }, 180_000);
  afterAll(async () => {
    await Promise.all([standard?.stop(), experimental?.stop()]);
  }, 60_000);

  test('every random release', async () => {
    const started = Date.now();
    const counted = { releases: 0, refused: 0, accepted: 0, stages: 0, objects: 0, ignored: 0 };
    const byRouter: { [router: string]: { refused: number; accepted: number } } = {};
    /** Plausible releases taken to some limits exactly (see LIMITS in _random-releases.ts). */
    const atLimits = { refused: 0, accepted: 0 };
    const refusedFor = new Map<string, number>();

    /** The stage's objects on the planes that must accept them; resolves to what a server refused. */
    const dryRun = async (release: RandomRelease, objects: any[]): Promise<Array<Refusal & { channel: string }>> => {
      const gatewayApi = release.router === 'gatewayApi';
      const retries = gatewayApi && release.gatewayApi?.experimentalRetries === true;
      const [onStandard, onExperimental] = await Promise.all([
        retries ? [] : dryRunStage(standard.kube, objects),
        retries ? dryRunStage(experimental.kube, objects)
          : gatewayApi ? dryRunStage(experimental.kube, objects.filter((o) => o.kind === 'HTTPRoute')) : [],
      ]);
      return [...onStandard.map((r) => ({ ...r, channel: 'standard' })), ...onExperimental.map((r) => ({ ...r, channel: 'experimental' }))];
    };

    const property = fc.asyncProperty(randomRelease(), async (release) => {
      counted.releases++;
      const tally = (byRouter[release.router] ??= { refused: 0, accepted: 0 });
      const refuse = (e: unknown, where: string): void => {
        const refusal = classifyRefusal(e);
        if (!refusal.clear) {
          throw new Error(`${where}: not a clear error: ${refusal.why}\nrelease: ${describeRelease(release)}`);
        }
        counted.refused++;
        tally.refused++;
        atLimits.refused += release.limits.length > 0 ? 1 : 0;
        const key = `${release.router} ${refusal.kind}: ${refusal.prop}`;
        refusedFor.set(key, (refusedFor.get(key) ?? 0) + 1);
      };

      let plan;
      try {
        plan = buildPlan(release.plan);
      } catch (e) {
        refuse(e, 'the plan');
        return;
      }
      for (const index of stagesToBuild(plan, release.stagePicks)) {
        const stage = plan.stages[index];
        let objects: any[];
        try {
          objects = synthesizeStage(release, stage);
        } catch (e) {
          refuse(e, `stage '${stage.name}'`);
          return;
        }
        const answers = await dryRun(release, objects);
        const refused = answers.filter((r) => !IGNORED?.test(r.message));
        counted.ignored += answers.length - refused.length;
        counted.stages++;
        counted.objects += objects.length;
        if (refused.length > 0) {
          const shown = refused.map((r) => {
            const [kind, name] = r.object.split('/');
            const object = objects.find((o) => o.kind === kind && o.metadata?.name === name);
            return `${r.channel} channel refused ${r.object}: ${r.message}\n  its spec: ${brief(object?.spec ?? object)}`;
          });
          throw new Error(`stage '${stage.name}' synthesized, and the API server refused it:\n${shown.join('\n')}\nrelease: ${describeRelease(release)}`);
        }
      }
      counted.accepted++;
      tally.accepted++;
      atLimits.accepted += release.limits.length > 0 ? 1 : 0;
    });

    try {
      // Shrinking a counterexample with large values re-runs many releases: it stops after a few minutes with the smallest so far.
      await fc.assert(property, { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true });
    } finally {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const routers = Object.entries(byRouter).sort().map(([router, t]) => `${router} ${t.accepted}/${t.refused}`).join(', ');
      console.log(`random releases (seed ${SEED}): ${counted.releases} drawn, ${counted.refused} refused at synth, ${counted.accepted} accepted by the `
        + `API server (accepted/refused: ${routers}; at their limits ${atLimits.accepted}/${atLimits.refused}); ${counted.stages} stages `
        + `(${counted.objects} objects) dry-run; ${seconds} s (+ ${startSeconds.toFixed(1)} s to start two control planes)`
        + `${IGNORED ? `; ${counted.ignored} refusals ignored (MESH_RELEASE_IGNORE)` : ''}`);
      if (process.env.MESH_RELEASE_VERBOSE) {
        console.log([...refusedFor].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${n} x ${key}`).join('\n'));
      }
    }
    // Both outcomes happen for every router: the generator reaches past the limits and stays within them.
    for (const router of ['istio', 'gatewayApi', 'serviceSelector']) {
      expect({ router, accepted: byRouter[router]?.accepted > 0, refused: byRouter[router]?.refused > 0 })
        .toEqual({ router, accepted: true, refused: true });
    }
  }, 600_000);
});
