/**
 * A version's workload as the safety check reads it: the Deployment fields and the autoscaler
 * that `safety/_workloads.ts` reads (name, labels, replicas or autoscaler floor, rollout strategy,
 * grace period, preStop sleep, proxy annotations), made from the resolved version without
 * building constructs. `VersionedApp` emits the full objects from the same `ResolvedVersion`; a
 * test holds what the check reads from both equal, for every option.
 */
import { ResolvedVersion } from './_resolved-version';

/** The Deployment and, when autoscaled, the HorizontalPodAutoscaler of a version, in the fields the safety check reads. */
export function workloadManifests(r: ResolvedVersion): any[] {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: r.name, labels: r.labels },
    spec: {
      ...(r.scaling.autoscaled ? {} : { replicas: r.scaling.minReplicas }),
      selector: { matchLabels: r.selectorLabels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: r.maxSurge.value, maxUnavailable: 0 } },
      template: {
        metadata: { labels: r.labels, annotations: r.podAnnotations },
        spec: {
          terminationGracePeriodSeconds: r.terminationGracePeriod.toSeconds(),
          containers: [{ name: r.app, lifecycle: { preStop: { exec: { command: ['sleep', `${r.preStopSleep.toSeconds()}`] } } } }],
        },
      },
    },
  };
  if (!r.scaling.autoscaled) {
    return [deployment];
  }
  const autoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: r.name, labels: r.labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: r.name },
      minReplicas: r.scaling.minReplicas,
      maxReplicas: r.scaling.maxReplicas,
    },
  };
  return [deployment, autoscaler];
}
