/**
 * The rules `SafetyCheck` enforces. Each names one way a stage, or the transition to it,
 * can drop requests (severity error) or leaves the release in a state that will (warning).
 * The README's safety section lists them with their severity.
 */
export enum SafetyRule {
  // -- routable versions (Istio subsets, Gateway API per-version Services) ------------------
  /** Every subset a VirtualService routes or mirrors to is defined in this stage's DestinationRule. */
  SUBSET_DEFINED = 'subset-defined',
  /** ...and was already defined in the previous stage (Envoy may receive the route before the subset). */
  SUBSET_BEFORE_ROUTE = 'subset-before-route',
  /** A subset leaves the DestinationRule only after it left every VirtualService in an earlier stage. */
  SUBSET_REMOVED_WHILE_ROUTED = 'subset-removed-while-routed',
  /** A Deployment is deleted only after every routed subset selecting its pods is gone. */
  DEPLOYMENT_REMOVED_WHILE_SUBSET = 'deployment-removed-while-subset',
  /** Subset names, and subset label sets, are unique within a DestinationRule. */
  SUBSET_UNIQUE = 'subset-unique',
  /** (warning) A subset selects pods, or did not exist in the previous stage (it is about to be deployed). */
  STALE_SUBSET = 'stale-subset',
  /** Every Service a route sends to (an HTTPRoute backendRef) exists in this stage. */
  SERVICE_DEFINED = 'service-defined',
  /** ...and already existed in the previous stage (its endpoints must be known before a route names it). */
  SERVICE_BEFORE_ROUTE = 'service-before-route',
  /** A per-version Service is removed only after it left every route in an earlier stage. */
  SERVICE_REMOVED_WHILE_ROUTED = 'service-removed-while-routed',
  /** A Deployment is deleted only after every routed per-version Service selecting its pods is gone. */
  DEPLOYMENT_REMOVED_WHILE_SERVICE = 'deployment-removed-while-service',
  /** (warning) A per-version Service selects pods, or did not exist in the previous stage. */
  STALE_SERVICE = 'stale-service',
  /**
   * A Service a route sends to in another namespace is allowed by a ReferenceGrant there, created in a stage before the
   * route names it, and deleted in a stage after no route names it.
   */
  REFERENCE_GRANT = 'reference-grant',
  /** Every HTTPRoute backendRef or mirror names a kind of backend Istio sends to (a Service is group `""`, not `core`). */
  BACKEND_KIND = 'backend-kind',
  /** Every port an HTTPRoute backendRef or mirror names is one of its Service's `spec.ports[].port`. */
  SERVICE_PORT = 'service-port',
  /** Every HTTPRoute rule sends what it matches somewhere: backendRefs, or a RequestRedirect filter. */
  RULE_HAS_BACKENDS = 'rule-has-backends',
  /** Every parentRef of an HTTPRoute attaches: a Service parent has `group: ""` and names a port the Service has. */
  PARENT_REF = 'parent-ref',
  /** One HTTPRoute rule without match per parent and hostname (the oldest route takes the requests, the other's split is dead). */
  ONE_CATCH_ALL_PER_PARENT = 'one-catch-all-per-parent',
  /** One kind of route per Service in the mesh: Istio does not merge a VirtualService and an HTTPRoute of one Service. */
  ONE_ROUTER_PER_SERVICE = 'one-router-per-service',

  // -- traffic ------------------------------------------------------------------------------
  /** A destination that receives traffic selects pods of a Deployment that existed in the previous stage. */
  DESTINATION_READY = 'destination-ready',
  /** Weights of a route are integers 0–100 that add up to 100. */
  WEIGHTS = 'weights',
  /** A route with match rules ends with a catch-all rule (no match). */
  CATCH_ALL_ROUTE = 'catch-all-route',
  /** A version-free Service routed by a mesh carries no version label in its selector. */
  SERVICE_SELECTS_VERSION = 'service-selects-version',
  /**
   * A version receiving traffic has at least one pod guaranteed (replicas, HPA minReplicas) and a
   * rollout that keeps pods available (error); a fixed replica count far below its share of traffic
   * (warning). With two HorizontalPodAutoscalers on one Deployment the HPA controller scales with
   * neither (AmbiguousSelector, kubernetes/kubernetes#112011): its replicas count.
   */
  CAPACITY = 'capacity',
  /** (warning) A version keeps the floor for the traffic it had in the previous stage, so rolling back lands on enough pods. */
  ROLLBACK_CAPACITY = 'rollback-capacity',
  /**
   * A workload (Deployment, StatefulSet, ReplicaSet) that sets `spec.replicas` above 1 in the previous stage keeps
   * setting it while its version gets traffic (any share, header route or mirror, in either stage): applying a stage
   * that drops the field (a switch from `Scaling.fixed(n)` to an autoscaler) resets it to 1 pod, with kubectl apply
   * and with server-side apply, until the autoscaler scales it back.
   */
  REPLICAS_REMOVED_WHILE_ROUTED = 'replicas-removed-while-routed',

  // -- Istio --------------------------------------------------------------------------------
  /**
   * A host written like an in-cluster Service's (`<name>.<namespace>.svc.<domain>`) is in the cluster domain the
   * check reads with (`SafetyCheckOptions.clusterDomain`): Istio knows a Service only in its cluster's domain.
   */
  CLUSTER_DOMAIN = 'cluster-domain',
  /** The DestinationRule of a host is visible where the routes are (its namespace, `exportTo`). */
  DESTINATION_RULE_VISIBLE = 'destination-rule-visible',
  /** One VirtualService per host and gateway (Istio merges several unpredictably). */
  ONE_VIRTUAL_SERVICE_PER_HOST = 'one-virtual-service-per-host',
  /** Pods that require mutual TLS (STRICT PeerAuthentication) are not called in plain text (tls mode DISABLE). */
  MTLS_MODE = 'mtls-mode',
  /**
   * A VirtualService routes the protocol of the Service port (`http` routes do nothing on a TCP port), and so does an
   * HTTPRoute attached to a Service (GAMMA).
   */
  PROTOCOL = 'protocol',
  /** (warning) A VirtualService bound to gateways lists `mesh` too, or in-mesh callers bypass it. */
  GATEWAYS_WITHOUT_MESH = 'gateways-without-mesh',

  // -- workloads and objects ----------------------------------------------------------------
  /** terminationGracePeriodSeconds covers the preStop sleep and the drain the sidecar really performs. */
  TERMINATION_BUDGET = 'termination-budget',
  /** (attempts + 1) x perTryTimeout fits in the route timeout. */
  RETRY_BUDGET = 'retry-budget',
  /** No two objects of one stage have the same kind, namespace and name. */
  DUPLICATE_OBJECT = 'duplicate-object',
}

/** How bad a violation is. */
export enum Severity {
  /** Applying the stage can drop requests: `MeshRelease` and `ReleasePlan` refuse it. */
  ERROR = 'error',
  /** Hygiene, or a risk that depends on load: reported, never refused. */
  WARNING = 'warning',
}

/** One way a stage (or the transition to it) could drop requests. */
export interface SafetyViolation {
  /** The rule broken. */
  readonly rule: SafetyRule;
  /** Error (could drop requests) or warning (hygiene). */
  readonly severity: Severity;
  /** The offending object, `Kind/name`, with the part of it at fault when useful. */
  readonly object: string;
  /** What is wrong, naming the subset, version or value. */
  readonly message: string;
  /** How to make the stage safe. */
  readonly fix: string;
}
