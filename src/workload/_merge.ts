import { WorkloadOptions } from './workload-options';

/** How one field of `WorkloadOptions` combines the defaults with a version's overrides. */
type Strategy = (defaults: any, overrides: any) => any;

/** The override when given, else the default (scalars, durations, lists that form one value). */
const replace: Strategy = (defaults, overrides) => overrides ?? defaults;

/** Field by field: each field the override gives wins, the others keep the default. */
const fields: Strategy = (defaults, overrides) => {
  if (defaults === undefined || overrides === undefined) {
    return overrides ?? defaults;
  }
  return { ...definedOnly(defaults), ...definedOnly(overrides) };
};

/** Field by field, two levels deep (`resources.cpu.request`, `securityContext.capabilities.drop`). */
const nested = (deepKeys: string[]): Strategy => (defaults, overrides) => {
  const merged = fields(defaults, overrides);
  if (defaults === undefined || overrides === undefined) {
    return merged;
  }
  for (const key of deepKeys) {
    const value = fields(defaults[key], overrides[key]);
    if (value !== undefined) {
      merged[key] = value;
    }
  }
  return merged;
};

/** Both lists, the defaults' first. */
const concat: Strategy = (defaults, overrides) =>
  (defaults === undefined || overrides === undefined ? overrides ?? defaults : [...defaults, ...overrides]);

/**
 * One strategy per field: a field added to `WorkloadOptions` does not compile until it gets one.
 * Keep in step with the merge rules documented on `WorkloadOptions`.
 */
const STRATEGIES: { readonly [K in keyof Required<WorkloadOptions>]: Strategy } = {
  scaling: replace,
  resources: nested(['cpu', 'memory', 'ephemeralStorage']),
  probes: fields,
  preStopSleep: replace,
  terminationGracePeriod: replace,
  proxyLifecycle: replace,
  sidecarDrainDuration: replace,
  maxSurge: replace,
  progressDeadline: replace,
  minReady: replace,
  disruptionBudget: replace,
  env: fields,
  envFrom: concat,
  command: replace,
  args: replace,
  imagePullPolicy: replace,
  serviceAccount: replace,
  // seccompProfile stays whole: its type and localhostProfile only make sense together.
  securityContext: nested(['capabilities']),
  podSecurityContext: fields,
  labels: fields,
  podAnnotations: fields,
};

/**
 * The options of one version: its overrides merged into the shared defaults, field by field
 * for nested options (see `WorkloadOptions`). A field set to `undefined` counts as not given.
 * Neither argument is modified.
 */
export function mergeWorkloadOptions(defaults: WorkloadOptions | undefined, overrides: WorkloadOptions): WorkloadOptions {
  const merged: { [key: string]: unknown } = {};
  const keys = new Set([...Object.keys(defaults ?? {}), ...Object.keys(overrides)]);
  for (const key of keys) {
    const strategy: Strategy | undefined = (STRATEGIES as { [key: string]: Strategy })[key];
    // Keys outside WorkloadOptions (a VersionSpec's image, say) are the caller's business: pass the override through.
    const value = strategy
      ? strategy((defaults as any)?.[key], (overrides as any)[key])
      : (overrides as any)[key] ?? (defaults as any)?.[key];
    if (value !== undefined) {
      merged[key] = value;
    }
  }
  return merged as WorkloadOptions;
}

function definedOnly(obj: object): { [key: string]: unknown } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
