export * from './analysis/analysis-options';
export * from './analysis/canary-metric';
export * from './release/apply-order';
export * from './workload/disruption-budget';
export * from './workload/health-probes';
export * from './release/mesh-release';
export * from './release/release-plan';
export * from './plan/release-stage';
export * from './testing/release-testing';
export * from './safety/safety-check';
export * from './safety/safety-rule';
export * from './workload/scaling';
export * from './validation/schema-validation';
export * from './routing/router';
export * from './routing/gateway-api/gateway-api-options';
export * from './routing/istio/istio-options';
export * from './routing/istio/traffic-policy';
export * from './workload/versioned-app';
export * from './workload/workload-options';

/** Typed Istio networking.istio.io/v1 classes, generated from Istio's CRDs (`npx projen import:istio`). */
export * as networking from './imports/networking.istio.io';
/** Typed Istio security.istio.io/v1 classes, generated from Istio's CRDs (`npx projen import:istio`). */
export * as security from './imports/security.istio.io';
/** Typed Gateway API 1.6.1 classes (gateway.networking.k8s.io/v1, standard channel: Gateway, HTTPRoute, ReferenceGrant), generated from its CRDs (`npx projen import:gateway-api`). */
export * as gatewayApi from './imports/gateway.networking.k8s.io';
