export * from './disruption-budget';
export * from './health-probes';
export * from './scaling';
export * from './versioned-app';
export * from './workload-options';
