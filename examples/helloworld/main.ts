/**
 * The helloworld release, v1 -> v2, behind an Istio ingress Gateway, plus a `ratings`
 * service where a third version is pinned by header while two others split traffic, and a
 * `reviews` release in Istio ambient mode routed with the Kubernetes Gateway API (an HTTPRoute
 * attached to its Service, enforced by the namespace's waypoint).
 *
 * Choose the stage with RELEASE_STAGE (default `shift-10`):
 *   RELEASE_STAGE=deploy npx cdk8s synth
 */
import { App, Chart, Duration } from 'cdk8s';
import { MeshRelease, networking, ReleasePlan, TrafficRouter } from 'cdk8s-mesh-release';

const app = new App();
const chart = new Chart(app, 'helloworld', { namespace: 'shop' });

// The public entry point: an Istio Gateway on the shared ingress gateway pods.
new networking.Gateway(chart, 'public', {
  metadata: { name: 'public' },
  spec: {
    selector: { istio: 'ingressgateway' },
    servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['helloworld.example.com'] }],
  },
});

export const helloworldPlan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
const stage = process.env.RELEASE_STAGE ?? 'shift-10';

new MeshRelease(chart, 'helloworld', {
  app: 'helloworld',
  port: 3000,
  versions: [
    { version: 'v1', image: 'learnistio/helloworld:1.0.0' },
    { version: 'v2', image: 'learnistio/helloworld:2.0.0' },
  ],
  stage: helloworldPlan.stage(stage), // an unknown name throws, listing the valid ones
  router: TrafficRouter.istio({ hosts: ['helloworld.example.com', 'helloworld'], gateways: ['public', 'mesh'] }),
  retries: { attempts: 3, perTryTimeout: Duration.seconds(2) },
  timeout: Duration.seconds(10),
  strictMtls: true,
});

// ratings: v1 and v2 split traffic, v3 is reachable only with `x-version: v3`.
export const ratingsPlan = ReleasePlan.custom([
  { name: 'split', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
  { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
  { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
  {
    name: 'pin-v3',
    deployed: ['v1', 'v2', 'v3'],
    weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }],
    headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }],
  },
]);

new MeshRelease(chart, 'ratings', {
  app: 'ratings',
  port: 8080,
  portName: 'http-api',
  defaults: { probes: { readinessPath: '/health/ready', livenessPath: '/health/live' } },
  versions: [
    { version: 'v1', image: 'example/ratings:1.0.0' },
    { version: 'v2', image: 'example/ratings:2.0.0' },
    { version: 'v3', image: 'example/ratings:3.0.0-rc.1' },
  ],
  stage: ratingsPlan.stage('pin-v3'),
});

// reviews, v1 -> v2, in Istio ambient mode: the namespace is enrolled
// (`kubectl label namespace bookinfo istio.io/dataplane-mode=ambient`) and has a waypoint
// (`istioctl waypoint apply -n bookinfo --name waypoint`). Gateway API CRDs 1.6 (standard channel).
// Its stages have the same names as helloworld's: RELEASE_STAGE drives both.
// Its own chart (written to reviews.k8s.yaml, after helloworld.k8s.yaml).
const bookinfo = new Chart(app, 'reviews', { namespace: 'bookinfo' });
export const reviewsPlan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });

new MeshRelease(bookinfo, 'reviews', {
  app: 'reviews',
  port: 9080,
  versions: [
    { version: 'v1', image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2' },
    { version: 'v2', image: 'docker.io/istio/examples-bookinfo-reviews-v2:1.20.2' },
  ],
  stage: reviewsPlan.stage(stage),
  router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }),
  timeout: Duration.seconds(10),
});

app.synth();
