export * from './apply-order';
export * from './disruption-budget';
export * from './health-probes';
export * from './mesh-release';
export * from './release-plan';
export * from './release-stage';
export * from './release-testing';
export * from './safety-check';
export * from './scaling';
export * from './schema-validation';
export * from './traffic-policy';
export * from './versioned-app';
export * from './workload-options';

/** Typed Istio networking.istio.io/v1 classes, generated from Istio's CRDs (`npx projen import:istio`). */
export * as networking from './imports/networking.istio.io';
/** Typed Istio security.istio.io/v1 classes, generated from Istio's CRDs (`npx projen import:istio`). */
export * as security from './imports/security.istio.io';
