/** The plan's identity: digests that change with any object of any stage, and what changed, by stage. */
import { reportedState } from '../../src/rollout/commands';
import { planChanges, planDigest, stageDigest, StateRecord } from '../../src/rollout/state-record';

const stage = (name: string, image: string) => ({
  name,
  manifests: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-v2' }, spec: { template: { spec: { containers: [{ image }] } } } }],
});

function recordOf(stages: ReturnType<typeof stage>[]): StateRecord {
  return {
    release: 'web',
    namespace: 'shop',
    plan: stages.map((s) => s.name),
    digest: planDigest(stages),
    stageDigests: stages.map(stageDigest),
    state: 'paused',
    analysis: [],
    rolledBack: [],
  };
}

describe('plan digests', () => {
  const before = [stage('stable', 'a'), stage('deploy', 'b'), stage('shift-50', 'b')];

  test('the same stages give the same digest, whatever the key order', () => {
    const reordered = before.map((s) => ({
      manifests: s.manifests.map((m) => ({ spec: m.spec, metadata: m.metadata, kind: m.kind, apiVersion: m.apiVersion })),
      name: s.name,
    }));
    expect(planDigest(reordered)).toBe(planDigest(before));
  });

  test('a changed object, an added or a removed stage: another digest, and planChanges names it', () => {
    const changed = [stage('stable', 'a'), stage('deploy', 'b'), stage('shift-50', 'c')];
    expect(planDigest(changed)).not.toBe(planDigest(before));
    expect(planChanges(recordOf(before), changed)).toEqual(['stage shift-50 changed']);
    expect(planChanges(recordOf(before), [...before, stage('retire', 'b')])).toEqual(['stage retire added']);
    expect(planChanges(recordOf(before), before.slice(0, 2))).toEqual(['stage shift-50 removed']);
    expect(planChanges(recordOf(before), before)).toEqual([]);
  });
});

describe('the state status reports', () => {
  const record = (state: any, applying?: string) => ({ release: 'web', namespace: 'shop', plan: [], digest: 'd', stageDigests: [], state, applying, analysis: [], rolledBack: [] });
  test.each<[string, any, string | undefined, string]>([
    ['no record', undefined, undefined, 'not-started'],
    ['a stage complete, no driver (e.g. --to reached)', record('progressing'), undefined, 'progressing'],
    ['a transition under way, its driver running', record('progressing', 'shift-50'), 'host/1/a', 'progressing'],
    ['a transition under way, no driver (refused mid-step, stopped, killed)', record('progressing', 'shift-50'), undefined, 'failed'],
    ['a roll back under way, its driver running', record('rolling-back', 'deploy'), 'host/1/a', 'rolling-back'],
    ['a roll back no driver carries on (timed out, stopped, killed)', record('rolling-back', 'deploy'), undefined, 'failed'],
    ['paused', record('paused'), undefined, 'paused'],
    ['completed', record('completed'), undefined, 'completed'],
    ['rolled back', record('rolled-back'), undefined, 'rolled-back'],
  ])('%s', (_what, r, driver, expected) => {
    expect(reportedState(r as any, driver)).toBe(expected);
  });
});
