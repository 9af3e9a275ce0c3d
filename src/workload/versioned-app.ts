import { ApiObject, ApiObjectMetadata, ApiObjectMetadataDefinition, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { APP_LABEL, appLabels } from '../_conventions';
import { ObjectRegistry } from './_object-registry';
import { ResolvedVersion } from './_resolved-version';
import { dropEmptyExternalIps, storedDeploymentSpec } from './_stored-form';
import { Scaling } from './scaling';
import { VersionedAppProps } from './versioned-app-props';

/** Annotation Istio reads per pod to override the mesh-wide proxy configuration. */
export { ISTIO_PROXY_CONFIG_ANNOTATION } from '../_conventions';

export * from './versioned-app-props';

/**
 * One version of a service, safe to roll out with zero downtime on plain Kubernetes,
 * and ready to be routed to by Istio.
 *
 * Synthesizes a Deployment named `<app>-<version>` (labels `app` and `version`, selector
 * on both), a HorizontalPodAutoscaler (or fixed replicas), a PodDisruptionBudget and,
 * when asked, a version-free Service.
 *
 * @example
 * new VersionedApp(chart, 'v1', {
 *   app: 'helloworld',
 *   version: 'v1',
 *   image: 'learnistio/helloworld:1.0.0',
 *   port: 3000,
 * });
 */
export class VersionedApp extends Construct {
  /** Name of the service (`app` label). */
  public readonly app: string;
  /** Version of the service (`version` label). */
  public readonly version: string;
  /** Name of the Deployment, autoscaler and disruption budget: `<app>-<version>`. */
  public readonly name: string;
  /** Port the container listens on. */
  public readonly port: number;
  /** Name of the container port. */
  public readonly portName: string;
  /** Labels that select this version's pods: `app` and `version`. */
  public readonly selectorLabels: { [key: string]: string };
  /** Replica count of this version. */
  public readonly scaling: Scaling;
  /** How long the preStop hook sleeps. */
  public readonly preStopSleep: Duration;
  /** Termination grace period of the pods. */
  public readonly terminationGracePeriod: Duration;
  /** Istio sidecar drain duration, when the sidecar lifecycle annotations are on. */
  public readonly sidecarDrainDuration?: Duration;
  /** The Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The application container. */
  public readonly container: kplus.Container;
  /** The HorizontalPodAutoscaler, when `scaling` autoscales. */
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  /** The PodDisruptionBudget. */
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  /** The version-free Service, when `createService` is on. */
  public readonly service?: kplus.Service;

  constructor(scope: Construct, id: string, props: VersionedAppProps) {
    super(scope, id);
    const r = new ResolvedVersion(this.node.path, props);
    this.app = r.app;
    this.version = r.version;
    this.name = r.name;
    this.port = r.port;
    this.portName = r.portName;
    this.scaling = r.scaling;
    this.preStopSleep = r.preStopSleep;
    this.terminationGracePeriod = r.terminationGracePeriod;
    this.sidecarDrainDuration = r.sidecarDrainDuration;
    this.selectorLabels = r.selectorLabels;
    const { labels, podAnnotations, probes, maxSurge, resources, progressDeadline, minReady, budget, securityContext, podSecurityContext } = r;
    // Everything is validated: from here on, children are created, and at synth time refused if another object of the
    // app has the name, kind and namespace of one of them (e.g. app 'foo' + version 'bar-v1' and app 'foo-bar' + 'v1').
    ObjectRegistry.claim(this);

    this.deployment = new VersionDeployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      podMetadata: { labels, annotations: podAnnotations },
      replicas: this.scaling.autoscaled ? undefined : this.scaling.minReplicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxSurge, maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      progressDeadline,
      minReady,
      terminationGracePeriod: this.terminationGracePeriod,
      serviceAccount: props.serviceAccount,
      securityContext: podSecurityContext,
    }, this.selectorLabels);

    this.container = this.deployment.addContainer({
      name: this.app,
      image: props.image,
      ports: [{ number: this.port, name: this.portName }],
      command: props.command,
      args: props.args,
      envVariables: props.env,
      envFrom: props.envFrom,
      imagePullPolicy: props.imagePullPolicy,
      readiness: probes.readiness,
      liveness: probes.liveness,
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', `${this.preStopSleep.toSeconds()}`]) },
      resources,
      securityContext,
    });

    if (this.scaling.autoscaled) {
      this.autoscaler = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
        metadata: { name: this.name, labels },
        target: this.deployment,
        minReplicas: this.scaling.minReplicas,
        maxReplicas: this.scaling.maxReplicas,
        metrics: [
          kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(this.scaling.cpuUtilizationPercent!)),
          kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(this.scaling.memoryUtilizationPercent!)),
        ],
      });
    }

    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: this.name, labels },
      spec: {
        selector: { matchLabels: this.selectorLabels },
        maxUnavailable: budget._maxUnavailable && intOrString(budget._maxUnavailable),
        minAvailable: budget._minAvailable && intOrString(budget._minAvailable),
      },
    });

    if (props.createService) {
      this.service = new kplus.Service(this, 'Service', {
        metadata: { name: this.app, labels: appLabels(this.app) },
        ports: [{ name: this.portName, port: this.port, targetPort: this.port }],
      });
      this.service.selectLabel(APP_LABEL, this.app);
      dropEmptyExternalIps(this.service);
      if (props.appProtocol !== undefined) {
        ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', props.appProtocol));
      }
    }
  }
}

/**
 * The Deployment of one version. Every cdk8s-plus API that selects its pods (`exposeViaService()`,
 * `connections`, network policy peers, pod affinity) selects on `app` and `version`, the labels the
 * pods carry; the pod template carries no `cdk8s.io/metadata.addr` label, so renaming a construct id
 * does not roll the pods. Its spec is written in the form the API server stores (`_stored-form.ts`).
 */
class VersionDeployment extends kplus.Deployment {
  private readonly versionPodMetadataProps: ApiObjectMetadata;
  private versionPodMetadata?: ApiObjectMetadataDefinition;

  constructor(scope: Construct, id: string, props: kplus.DeploymentProps, selectorLabels: { [key: string]: string }) {
    super(scope, id, { ...props, select: false });
    this.versionPodMetadataProps = props.podMetadata ?? {};
    this.select(kplus.LabelSelector.of({ labels: selectorLabels }));
  }

  /** The pod template's metadata, without the address label cdk8s-plus' Workload adds. */
  public get podMetadata(): ApiObjectMetadataDefinition {
    if (!this.versionPodMetadata) {
      this.versionPodMetadata = new ApiObjectMetadataDefinition({ ...this.versionPodMetadataProps, apiObject: this.apiObject });
    }
    return this.versionPodMetadata;
  }

  /** The spec in the form the API server stores it (canonical quantities, no zero `omitempty` fields): see `_stored-form.ts`. */
  public _toKube(): kplus.k8s.DeploymentSpec {
    return storedDeploymentSpec(super._toKube());
  }

  /** Selects the pods by the Deployment's own selector (`app` and `version`). */
  public toPodSelectorConfig(): kplus.PodSelectorConfig {
    return {
      labelSelector: kplus.LabelSelector.of({ labels: this.matchLabels }),
      namespaces: this.metadata.namespace ? { names: [this.metadata.namespace] } : undefined,
    };
  }
}


function intOrString(value: kplus.PercentOrAbsolute): kplus.k8s.IntOrString {
  return typeof value.value === 'number'
    ? kplus.k8s.IntOrString.fromNumber(value.value)
    : kplus.k8s.IntOrString.fromString(value.value);
}
