/**
 * Reads Gateway API routing objects, the only parser of them: HTTPRoute rules are route rules
 * whose targets are Services (backend kind 'service', id `service:<namespace>/<name>`), and
 * Services are backends (their selector decides the pods they reach). What the Gateway API's own
 * rules (`rules/`) need besides is kept in the stage's `GatewayApiStage`, read once.
 *
 * Which Services are backends: every Service an HTTPRoute backendRef or RequestMirror names, in
 * this stage or in the stage it is compared with (so a Service a route just dropped is still
 * known as one, and removing it is checked), and every Service whose selector has the `version`
 * label (a per-version Service waiting for its route, or a selector switch). The version-free
 * Service a GAMMA route attaches to is not a backend unless a route names it as one.
 */
import { GATEWAY_API_GROUP, ParentRef, covers, hostsOn, mergeKey, overlaps, readParentRefs } from './_parents';
import { Labels, VERSION_LABEL } from '../../_conventions';
import { compareText, push } from '../../_util';
import { parseDurationMs } from '../../safety/_durations';
import { FactsBuilder, RuleFacts, TargetFacts, objectName, serviceBackend, serviceId, serviceLabel } from '../../safety/_facts';
import { StageManifests } from '../../safety/_manifests';
import { RouterReader } from '../../safety/_plugin';

export { GATEWAY_API_GROUP };

/** Gateway API weights are relative integers between 0 and 1,000,000. */
const MAX_WEIGHT = 1_000_000;

/** Whether a manifest is a Gateway API object of `kind` (any API version). */
export function isGatewayApi(manifest: any, kind: string): boolean {
  return manifest?.kind === kind && typeof manifest.apiVersion === 'string' && manifest.apiVersion.startsWith(`${GATEWAY_API_GROUP}/`);
}

/** Whether a backendRef names a core Service (group '' and kind Service are a backendRef's defaults). */
export function isServiceRef(ref: any): boolean {
  return (ref?.group ?? '') === '' && (ref?.kind ?? 'Service') === 'Service';
}

/** The Services an HTTPRoute attaches to (GAMMA parentRefs: group '' and kind Service), as `<namespace>/<name>`. */
export function serviceParents(route: any, defaultNamespace: string): string[] {
  const namespace = route.metadata?.namespace ?? defaultNamespace;
  return (Array.isArray(route.spec?.parentRefs) ? route.spec.parentRefs : [])
    .filter((p: any) => p?.group === '' && p?.kind === 'Service').map((p: any) => `${p.namespace ?? namespace}/${p.name}`);
}

/** A Service an HTTPRoute rule names: as a backend, or as the target of a RequestMirror filter. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  /** Index of the rule. */
  readonly rule: number;
  readonly mirror: boolean;
  /** The port it names (undefined when left out). */
  readonly port?: number;
  /** The weight of a backendRef as written (undefined when left out, and for a mirror). */
  readonly weight?: unknown;
}

/** Every Service an HTTPRoute names: the backendRefs and mirror backendRefs of its rules. */
export function serviceRefs(route: any, defaultNamespace: string): ServiceRef[] {
  const namespace = route.metadata?.namespace ?? defaultNamespace;
  const rules: any[] = Array.isArray(route.spec?.rules) ? route.spec.rules : [];
  return rules.flatMap((rule, index) => [
    ...(Array.isArray(rule?.backendRefs) ? rule.backendRefs : []).map((ref: any) => ({ ref, mirror: false })),
    ...mirrorFilters(rule).map((f) => ({ ref: f.requestMirror?.backendRef, mirror: true })),
  ].filter((x) => isServiceRef(x.ref) && typeof x.ref?.name === 'string')
    .map((x) => ({
      namespace: x.ref.namespace ?? namespace,
      name: x.ref.name,
      rule: index,
      mirror: x.mirror,
      port: x.ref.port,
      weight: x.mirror ? undefined : x.ref.weight,
    })));
}

function mirrorFilters(rule: any): any[] {
  return (Array.isArray(rule?.filters) ? rule.filters : []).filter((f: any) => f?.type === 'RequestMirror' || f?.requestMirror);
}

/**
 * Whether a match takes every request: no condition, or only the path prefix `/` (what the API
 * server fills in for a rule without matches).
 */
function matchesEverything(match: any): boolean {
  const keys = Object.keys(match ?? {});
  const path = match?.path;
  const rootPrefix = path === undefined || ((path.type ?? 'PathPrefix') === 'PathPrefix' && (path.value ?? '/') === '/' && Object.keys(path).every((k) => k === 'type' || k === 'value'));
  return keys.every((k) => k === 'path') && rootPrefix;
}

/** An HTTPRoute, read. */
export interface GatewayRoute {
  readonly manifest: any;
  /** `Kind/name`. */
  readonly object: string;
  readonly namespace: string;
  /** The Services it sends or mirrors to. */
  readonly refs: readonly ServiceRef[];
  /** The Services it attaches to, `<namespace>/<name>` (GAMMA parents that attach). */
  readonly parents: readonly string[];
  /** Its parentRefs, those that attach to nothing included. */
  readonly parentRefs: readonly ParentRef[];
  /** Its `spec.hostnames`. */
  readonly hostnames: readonly string[];
  /**
   * False when none of its parentRefs attaches (or it has none): it routes nothing, so it adds no route to the facts
   * (its weights are not counted as if it routed).
   */
  readonly attached: boolean;
  /** Its rules in the order written. */
  readonly rules: readonly RuleFacts[];
  /** Its first rule that takes every request (no match, or only the path prefix `/`), if it has one. */
  readonly catchAll?: RuleFacts;
  /**
   * Its rules that send matching requests nowhere: no backendRef, and no RequestRedirect filter that would answer
   * (Istio answers them 500: `weightSum(r.BackendRefs) == 0 && vs.Redirect == nil` in istio/istio
   * pilot/pkg/config/kube/gateway/conversion.go; the Gateway API 1.6 spec says 404).
   */
  readonly withoutBackends: readonly RuleFacts[];
}

/** A route on one parent: the parentRef it attaches with. */
export interface Attachment {
  readonly route: GatewayRoute;
  readonly parent: ParentRef;
}

/** The Gateway API objects of one stage, read once for the reader's facts and for the Gateway API's rules. */
export class GatewayApiStage {
  readonly routes: GatewayRoute[] = [];
  /** `<namespace>/<name>` of every Service its HTTPRoutes send or mirror to. */
  readonly named = new Set<string>();
  /** The attached routes by merge key (see `_parents.ts`), each list by namespace and name of the route. */
  readonly byParent = new Map<string, Attachment[]>();
  private byName?: Map<string, any>;
  private referenceGrants?: readonly any[];

  constructor(readonly stage: StageManifests) {}

  /** Adds a route (read in full) to the stage, and to the routes of its parents when it attaches. */
  add(route: GatewayRoute): void {
    this.routes.push(route);
    if (!route.attached) {
      return;
    }
    for (const parent of route.parentRefs) {
      if (parent.detached === undefined) {
        push(this.byParent, mergeKey(parent, route.namespace), { route, parent });
      }
    }
  }

  /** Each list of `byParent` by namespace and name of the route (the tie-break of routes created together). */
  sortParents(): void {
    const identity = (a: Attachment) => `${a.route.namespace}/${a.route.manifest.metadata?.name}`;
    for (const list of this.byParent.values()) {
      list.sort((a, b) => compareText(identity(a), identity(b)));
    }
  }

  /**
   * Whether every request a route takes, on each of its parents and hostnames, can be taken by a rule without match
   * of a route merged with it (its own included): Gateway API merges the rules of the routes on a parent.
   */
  catchAllEverywhere(route: GatewayRoute): boolean {
    const parents = route.parentRefs.filter((p) => p.detached === undefined);
    return parents.length > 0 && parents.every((p) => hostsOn(p, route.hostnames).every((host) =>
      (this.byParent.get(mergeKey(p, route.namespace)) ?? []).some((other) => other.route.catchAll !== undefined
        && covers(other.parent, p) && hostsOn(other.parent, other.route.hostnames).includes(host))));
  }

  /** Pairs of attached routes with a rule without match each, on one parent and hostname: the first by namespace and name wins. */
  catchAllConflicts(): Array<{ readonly first: Attachment; readonly other: Attachment; readonly host: string }> {
    const found: Array<{ first: Attachment; other: Attachment; host: string }> = [];
    const seen = new Set<string>();
    for (const list of this.byParent.values()) {
      const catchAlls = list.filter((a) => a.route.catchAll !== undefined);
      for (let i = 0; i < catchAlls.length; i++) {
        for (let j = i + 1; j < catchAlls.length; j++) {
          const [first, other] = [catchAlls[i], catchAlls[j]];
          const pair = `${first.route.namespace}/${first.route.object}|${other.route.namespace}/${other.route.object}`;
          if (first.route === other.route || seen.has(pair) || !overlaps(first.parent, other.parent)) {
            continue;
          }
          const hosts = hostsOn(other.parent, other.route.hostnames);
          const host = hostsOn(first.parent, first.route.hostnames).find((h) => hosts.includes(h));
          if (host !== undefined) {
            seen.add(pair);
            found.push({ first, other, host });
          }
        }
      }
    }
    return found;
  }

  /** The Services by `<namespace>/<name>`. */
  get services(): ReadonlyMap<string, any> {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.stage.services()) {
        this.byName.set(`${this.stage.namespaceOf(s)}/${s.metadata?.name}`, s);
      }
    }
    return this.byName;
  }

  /** The ReferenceGrants. */
  get grants(): readonly any[] {
    return this.referenceGrants ??= this.stage.ofKind('ReferenceGrant').filter((m) => isGatewayApi(m, 'ReferenceGrant'));
  }
}

export const GATEWAY_API_READER: RouterReader<GatewayApiStage> = {
  read(stage, into) {
    const model = new GatewayApiStage(stage);
    for (const manifest of stage.ofKind('HTTPRoute')) {
      if (!isGatewayApi(manifest, 'HTTPRoute')) {
        continue;
      }
      const namespace = stage.namespaceOf(manifest);
      const parentRefs = readParentRefs(manifest, namespace, model.services);
      const rules = ruleFacts(manifest, namespace);
      const written: any[] = Array.isArray(manifest.spec?.rules) ? manifest.spec.rules : [];
      const route: GatewayRoute = {
        manifest,
        object: objectName(manifest),
        namespace,
        refs: serviceRefs(manifest, stage.options.namespace),
        parents: parentRefs.filter((p) => p.service !== undefined && p.detached === undefined).map((p) => p.service!),
        parentRefs,
        hostnames: Array.isArray(manifest.spec?.hostnames) ? manifest.spec.hostnames.map(String) : [],
        attached: parentRefs.some((p) => p.detached === undefined),
        rules,
        catchAll: rules.find((r) => !r.hasMatch),
        withoutBackends: rules.filter((_, i) => !forwards(written[i])),
      };
      model.add(route);
      for (const ref of route.refs) {
        const key = `${ref.namespace}/${ref.name}`;
        model.named.add(key);
        if (route.attached) {
          into.routedServices.add(key);
        }
      }
      for (const parent of route.parents) {
        into.routedServices.add(parent);
        into.serviceRoutes.push({ service: parent, object: route.object, namespace, kind: 'HTTPRoute' });
      }
    }
    model.sortParents();
    for (const route of model.routes) {
      if (route.attached) {
        // Gateway API ranks rules by their matches, not by their order: a rule that takes every
        // request comes after every rule with a condition. A route without such a rule needs none when the routes
        // merged with it on each of its parents have one.
        const ranked = [...route.rules.filter((r) => r.hasMatch), ...route.rules.filter((r) => !r.hasMatch)];
        into.routes.push({
          object: route.object,
          namespace: route.namespace,
          rules: ranked,
          needsCatchAll: route.catchAll !== undefined || !model.catchAllEverywhere(route),
          gatewayOnly: route.parentRefs.every((p) => p.detached !== undefined || p.kind === 'Gateway' || p.kind === 'ListenerSet'),
          list: 'rules',
        });
      }
    }
    return model;
  },
  complete(stage: StageManifests, into: FactsBuilder, model: GatewayApiStage, other: GatewayApiStage | undefined) {
    const named = (key: string) => model.named.has(key) || (other?.named.has(key) ?? false);
    for (const service of stage.services()) {
      const namespace = stage.namespaceOf(service);
      const selector: Labels = service.spec?.selector ?? {};
      if (named(`${namespace}/${service.metadata?.name}`) || VERSION_LABEL in selector) {
        into.backends.push(serviceBackend(service, namespace));
      }
    }
  },
};

/** Whether a rule sends what it matches somewhere: to backendRefs, or as a redirect. */
function forwards(rule: any): boolean {
  const filters: any[] = Array.isArray(rule?.filters) ? rule.filters : [];
  return (Array.isArray(rule?.backendRefs) && rule.backendRefs.length > 0) || filters.some((f) => f?.type === 'RequestRedirect');
}

/** The rules of a route as facts, in the order written. */
function ruleFacts(route: any, namespace: string): RuleFacts[] {
  const object = objectName(route);
  const targetOf = (ref: any, weight: number, mirror: boolean, invalidWeight?: unknown): TargetFacts => {
    const refNamespace = ref?.namespace ?? namespace;
    if (isServiceRef(ref)) {
      return { backendId: serviceId(refNamespace, ref?.name), kind: 'service', label: serviceLabel(refNamespace, ref?.name), name: ref?.name, weight, mirror, invalidWeight };
    }
    // Another kind of backend (ServiceImport, an implementation's own...): its pods are unknown here.
    const id = `${ref?.group ?? ''}/${ref?.kind}/${refNamespace}/${ref?.name}`;
    return { backendId: `host:${id}`, kind: 'host', label: `${ref?.kind} ${refNamespace}/${ref?.name}`, name: ref?.name, weight, mirror, invalidWeight };
  };
  const rules: any[] = Array.isArray(route.spec?.rules) ? route.spec.rules : [];
  return rules.map((rule: any, index: number): RuleFacts => {
    const refs: any[] = Array.isArray(rule?.backendRefs) ? rule.backendRefs : [];
    const written = refs.map((ref) => ref?.weight ?? 1);
    const valid = written.map((w) => Number.isInteger(w) && w >= 0 && w <= MAX_WEIGHT);
    const shares = percentages(written.map((w, i) => (valid[i] ? w : 0)));
    const targets = refs.map((ref, i) => targetOf(ref, shares[i], false, valid[i] ? undefined : written[i]));
    for (const filter of mirrorFilters(rule)) {
      const mirror = filter.requestMirror ?? {};
      const fraction = mirror.fraction;
      const percent = mirror.percent ?? (fraction ? (100 * Number(fraction.numerator)) / Number(fraction.denominator ?? 100) : 100);
      targets.push(targetOf(mirror.backendRef, percent, true));
    }
    const matches: any[] = Array.isArray(rule?.matches) ? rule.matches : [];
    return {
      object,
      where: `${object} rules[${index}]${typeof rule?.name === 'string' ? ` (${rule.name})` : ''}`,
      hasMatch: matches.length > 0 && !matches.some(matchesEverything),
      matchText: matches.length > 0 ? describeMatches(matches) : undefined,
      targets,
      retries: rule?.retry
        ? { attempts: Number(rule.retry.attempts ?? 0), perTryTimeoutMs: parseDurationMs(rule.timeouts?.backendRequest) }
        : undefined,
      timeoutMs: parseDurationMs(rule?.timeouts?.request),
    };
  });
}

/**
 * Relative weights as percentages adding up to exactly 100 (the last share takes the rounding),
 * or all 0 when they add up to 0 (Gateway API then answers 500).
 */
function percentages(weights: number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (total === 0 || total === 100) {
    return weights;
  }
  const shares = weights.map((w) => Math.round((w * 100 * 1e6) / total) / 1e6);
  const last = shares.map((s, i) => [s, i]).filter(([s]) => s > 0).pop()?.[1];
  if (last !== undefined) {
    // Summed in the order the weights rule sums them, so the total is exactly 100.
    shares[last] = 100 - shares.slice(0, last).reduce((sum, s) => sum + s, 0);
  }
  return shares;
}

/** HTTPRoute matches for people: `name=value`, `name~regex`, `path`; ` & ` within one, ` | ` between. */
function describeMatches(matches: any[]): string {
  return matches.map((m) => {
    const headers = (Array.isArray(m?.headers) ? m.headers : []).map((h: any) =>
      (h?.type === 'RegularExpression' ? `${h.name}~${h.value}` : `${h?.name}=${h?.value}`));
    // The root path prefix beside headers is the default the API server writes: the headers are the match.
    const path = m?.path && (headers.length === 0 || !matchesEverything({ path: m.path })) ? ['path'] : [];
    return [...headers, ...path].join(' & ') || 'match';
  }).join(' | ') || 'match';
}
