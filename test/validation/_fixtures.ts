/** Valid manifests of every custom kind the validator knows, as fresh objects (tests mutate them). */

export function virtualService(): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'helloworld' },
    spec: {
      hosts: ['helloworld'],
      http: [{
        match: [{ headers: { 'x-canary': { regex: '^(true|yes)$' } } }],
        route: [{ destination: { host: 'helloworld', subset: 'v2' } }],
      }, {
        route: [
          { destination: { host: 'helloworld', subset: 'v1' }, weight: 90 },
          { destination: { host: 'helloworld', subset: 'v2' }, weight: 10 },
        ],
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,connect-failure,503' },
        timeout: '10s',
      }],
    },
  };
}

export function destinationRule(): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'helloworld' },
    spec: {
      host: 'helloworld.default.svc.cluster.local',
      trafficPolicy: { outlierDetection: { interval: '10s', baseEjectionTime: '30s', consecutive5xxErrors: 5 } },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
    },
  };
}

export function istioGateway(): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: 'public' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }],
    },
  };
}

export function peerAuthentication(): any {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'helloworld' },
    spec: { selector: { matchLabels: { app: 'helloworld' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } },
  };
}

export function authorizationPolicy(): any {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'allow-frontend' },
    spec: {
      selector: { matchLabels: { app: 'helloworld' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/frontend'] } }], to: [{ operation: { methods: ['GET'] } }] }],
    },
  };
}

export function httpRoute(): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'helloworld' },
    spec: {
      parentRefs: [{ name: 'public', namespace: 'istio-ingress' }],
      hostnames: ['shop.example.com'],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ name: 'helloworld-v1', port: 80, weight: 90 }, { name: 'helloworld-v2', port: 80, weight: 10 }],
      }],
    },
  };
}

export function referenceGrant(): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: { name: 'allow-routes', namespace: 'shop' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'istio-ingress' }],
      to: [{ group: '', kind: 'Service' }],
    },
  };
}

export function gatewayApiGateway(): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'public', namespace: 'istio-ingress' },
    spec: {
      gatewayClassName: 'istio',
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com' },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'shop.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'shop-cert' }] } },
      ],
    },
  };
}

export const ALL_CUSTOM = [
  virtualService, destinationRule, istioGateway, peerAuthentication, authorizationPolicy, httpRoute, referenceGrant, gatewayApiGateway,
];
