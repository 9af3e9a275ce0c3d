/**
 * Reads selector switches (blue/green without a mesh) into the safety facts: a Service whose
 * selector has the `version` label and that no mesh routes is a route rule with one target,
 * itself as a backend of kind 'service' taking 100% of its requests. So the shared rules apply
 * to the switch: destination-ready (switch only to a version whose Deployment was there in the
 * previous stage), deployment-removed-while-service (delete the old version only after the
 * Service stopped selecting it), service-removed-while-routed, capacity.
 *
 * A Service is not a switch when a mesh routes it in this stage or the one compared with it
 * (`ReadContext.routedServices`, which the other routers' readers report: an HTTPRoute names it as
 * a backend, mirror or parent, it is the host of an Istio DestinationRule or VirtualService
 * destination); nor when it is named `<app>-<version>` after its own selector (a per-version
 * Service of the Gateway API router, waiting for its route).
 */
import { Labels, VERSION_LABEL, versionedName } from '../../_conventions';
import { serviceBackend } from '../../safety/_facts';
import { RouterReader } from '../../safety/_plugin';

/** The Services of one stage that may be selector switches: a `version` label in the selector, not per-version. */
export interface SelectorStage {
  /** Their `<namespace>/<name>`: a switch unless a mesh routes it. */
  readonly candidates: readonly string[];
}

export const SERVICE_SELECTOR_READER: RouterReader<SelectorStage> = {
  read(stage) {
    const candidates: string[] = [];
    for (const service of stage.services()) {
      const selector: Labels = service.spec?.selector ?? {};
      if (!(VERSION_LABEL in selector)) {
        continue;
      }
      const perVersion = typeof selector.app === 'string' && service.metadata?.name === versionedName(selector.app, selector[VERSION_LABEL]);
      if (!perVersion) {
        candidates.push(`${stage.namespaceOf(service)}/${service.metadata?.name}`);
      }
    }
    return { candidates };
  },
  complete(stage, into, model, other, { routedServices }) {
    const switches = (candidates: readonly string[]) => new Set(candidates.filter((key) => !routedServices.has(key)));
    const here = switches(model.candidates);
    const there = switches(other?.candidates ?? []);
    if (here.size === 0 && there.size === 0) {
      return;
    }
    for (const service of stage.services()) {
      const namespace = stage.namespaceOf(service);
      const key = `${namespace}/${service.metadata?.name}`;
      // A switch in either stage is one backend across both, whatever it selects in this one.
      if (!here.has(key) && !there.has(key)) {
        continue;
      }
      const backend = serviceBackend(service, namespace);
      into.backends.push(backend);
      if (here.has(key)) {
        into.routes.push({
          object: backend.object,
          namespace: backend.namespace,
          list: 'selector',
          needsCatchAll: false,
          rules: [{
            object: backend.object,
            where: `${backend.object} selector`,
            hasMatch: false,
            targets: [{ backendId: backend.id, kind: 'service', label: backend.label, name: backend.name, weight: 100, mirror: false }],
          }],
        });
      }
    }
  },
};
