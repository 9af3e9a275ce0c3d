/**
 * Where a release stands, recorded in the cluster by the driver: a ConfigMap `mesh-release.<release>` in the
 * release's namespace with the live stage, the stage being applied, the plan's digest (and each stage's, to say
 * what changed), the state, the pending pause, the last analysis results and the digests rolled back.
 *
 * Why a ConfigMap: readable with `kubectl get configmap -o yaml` by anyone who may read the release, granted with
 * the same namespaced RBAC as the release's objects, and no CustomResourceDefinition to install (no cluster-wide
 * install, nothing that needs a controller); it is small (a plan's digests and the last results of each metric).
 * The Lease stays a pure lock (its fields are the Lease API's).
 */
import { createHash } from 'crypto';
import { RELEASE_LABEL, rolloutObjectName } from '../_conventions';
import { MetricResult } from './analysis';
import { KubeClient } from './kube-client';
import { ReleaseRef } from '../cli/release-view';
import { sortedJson } from '../cli/stage-diff';
import { StageResult } from '../cli/stages';

/**
 * The states of a release (`status`): `rolling-back` from the first step of a roll back until it is done (a driver
 * stopped meanwhile leaves it, and `rollout` finishes the roll back); `failed` is what drivers before it recorded then.
 */
export type ReleaseStateName = 'progressing' | 'paused' | 'completed' | 'rolling-back' | 'rolled-back' | 'failed';

/** What the driver records. */
export interface StateRecord {
  readonly release: string;
  readonly namespace: string;
  /** The plan's stages, in order. */
  readonly plan: string[];
  /** The plan's digest (`planDigest`). */
  readonly digest: string;
  /** Each stage's digest, in plan order. */
  readonly stageDigests: string[];
  /** The last stage made live completely (applied, waited for, analyzed), if any. */
  readonly stage?: string;
  /** The stage being applied (forward or back), if a transition is under way. */
  readonly applying?: string;
  readonly state: ReleaseStateName;
  /** The stage a pause waits before (`state` paused). */
  readonly pausedBefore?: string;
  /** Why it failed or was rolled back. */
  readonly reason?: string;
  /** The last result of each metric. */
  readonly analysis: MetricResult[];
  /** Digests of plans rolled back: not retried without `--retry`. */
  readonly rolledBack: string[];
  /** The driver that wrote it. */
  readonly driver?: string;
  readonly updated?: string;
}

/** A stage's digest: its name and every object, keys sorted. */
export function stageDigest(stage: Pick<StageResult, 'name' | 'manifests'>): string {
  return createHash('sha256').update(sortedJson([stage.name, stage.manifests])).digest('hex');
}

/** The plan's identity: the digest of its stages' digests, in order. */
export function planDigest(stages: readonly Pick<StageResult, 'name' | 'manifests'>[]): string {
  return createHash('sha256').update(stages.map(stageDigest).join('\n')).digest('hex');
}

/** The record of a release, or undefined when no driver ran it. */
export async function readStateRecord(kube: KubeClient, release: ReleaseRef): Promise<StateRecord | undefined> {
  const cm = await kube.find('v1', 'ConfigMap', release.namespace, rolloutObjectName(release.name));
  if (!cm?.data) {
    return undefined;
  }
  const d = cm.data;
  const json = (text: string | undefined, fallback: any) => {
    try {
      return text ? JSON.parse(text) : fallback;
    } catch {
      return fallback;
    }
  };
  return {
    release: d.release ?? release.name,
    namespace: d.namespace ?? release.namespace,
    plan: (d.plan ?? '').split(',').filter((s: string) => s !== ''),
    digest: d.digest ?? '',
    stageDigests: json(d.stageDigests, []),
    stage: d.stage || undefined,
    applying: d.applying || undefined,
    state: (d.state ?? 'progressing') as ReleaseStateName,
    pausedBefore: d.pausedBefore || undefined,
    reason: d.reason || undefined,
    analysis: json(d.analysis, []),
    rolledBack: json(d.rolledBack, []),
    driver: d.driver || undefined,
    updated: d.updated || undefined,
  };
}

/** Writes the record (server-side apply: every field of `data` is the driver's). */
export async function writeStateRecord(kube: KubeClient, release: ReleaseRef, record: StateRecord): Promise<void> {
  await kube.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: rolloutObjectName(release.name), namespace: release.namespace, labels: { [RELEASE_LABEL]: release.name } },
    data: {
      release: record.release,
      namespace: record.namespace,
      plan: record.plan.join(','),
      digest: record.digest,
      stageDigests: JSON.stringify(record.stageDigests),
      stage: record.stage ?? '',
      applying: record.applying ?? '',
      state: record.state,
      pausedBefore: record.pausedBefore ?? '',
      reason: record.reason ?? '',
      analysis: JSON.stringify(record.analysis),
      rolledBack: JSON.stringify(record.rolledBack),
      driver: record.driver ?? '',
      updated: new Date().toISOString(),
    },
  }, release.namespace);
}

/** What differs between the stages recorded and the plan's: `stage shift-10 changed`, `stage x added`... */
export function planChanges(recorded: StateRecord, stages: readonly Pick<StageResult, 'name' | 'manifests'>[]): string[] {
  const before = new Map(recorded.plan.map((name, i) => [name, recorded.stageDigests[i]]));
  const now = new Set(stages.map((s) => s.name));
  return [
    ...stages.filter((s) => !before.has(s.name)).map((s) => `stage ${s.name} added`),
    ...recorded.plan.filter((name) => !now.has(name)).map((name) => `stage ${name} removed`),
    ...stages.filter((s) => before.has(s.name) && before.get(s.name) !== stageDigest(s)).map((s) => `stage ${s.name} changed`),
    ...(recorded.plan.filter((n) => now.has(n)).join(',') !== stages.map((s) => s.name).filter((n) => before.has(n)).join(',') ? ['stages reordered'] : []),
  ];
}
