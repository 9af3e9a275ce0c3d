/**
 * Annotations that make a GitOps tool apply one stage in a safe order when it applies all
 * objects of the stage at once: DestinationRule (or the per-version Services) first, then the
 * Deployments (waiting until they are ready) and the rest, then the VirtualService (or the
 * HTTPRoute, or the Service whose selector switches versions).
 *
 * Applying stages in order, one at a time, is what makes a release safe; ordering only
 * protects a stage applied in one shot (or a stage skipped by mistake) from routing before
 * its subsets and pods are ready.
 */
export enum ApplyOrder {
  /** No ordering annotations: apply the stages one by one and wait between them (see the runbook). */
  NONE = 'none',
  /**
   * Argo CD sync waves (`argocd.argoproj.io/sync-wave`): DestinationRule -1, workloads 0,
   * VirtualService 1. Argo CD waits for a wave to be healthy (Deployments rolled out)
   * before the next one. Trade-off: waves order a sync, not pruning — objects removed from a
   * stage are pruned at the end of the sync, which is the make-before-break order anyway,
   * but only if auto-prune is on.
   */
  ARGO_CD = 'argo-cd',
  /**
   * kapp change groups and rules (`kapp.k14s.io/change-group`, `kapp.k14s.io/change-rule`):
   * workloads are upserted after the DestinationRule, and the VirtualService after the
   * workloads, which kapp waits on until they are ready. Trade-off: kapp waits up to its
   * own timeout (`--wait-timeout`, 15 min by default) for a Deployment that never becomes
   * ready, and then fails the whole apply with the routes unchanged.
   */
  KAPP = 'kapp',
}
