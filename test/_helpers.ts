import { Testing } from 'cdk8s';
import { MeshRelease, MeshReleaseProps, ReleaseStage } from '../src';

export const TWO_VERSIONS = [
  { version: 'v1', image: 'learnistio/helloworld:1.0.0' },
  { version: 'v2', image: 'learnistio/helloworld:2.0.0' },
];

/** Synthesizes a helloworld MeshRelease at `stage` and returns the manifests. */
export function synthRelease(stage: ReleaseStage, props: Partial<MeshReleaseProps> = {}): any[] {
  const chart = Testing.chart();
  new MeshRelease(chart, 'helloworld', { app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage, ...props });
  return Testing.synth(chart);
}

export function ofKind(manifests: any[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

export function only(manifests: any[], kind: string): any {
  const found = ofKind(manifests, kind);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}, found ${found.length}`);
  }
  return found[0];
}

/** `{ subset: weight }` of the catch-all (last) route of the VirtualService. */
export function catchAllWeights(manifests: any[]): { [subset: string]: number } {
  const http = only(manifests, 'VirtualService').spec.http;
  return Object.fromEntries(http[http.length - 1].route.map((r: any) => [r.destination.subset, r.weight]));
}

export function subsetNames(manifests: any[]): string[] {
  return only(manifests, 'DestinationRule').spec.subsets.map((s: any) => s.name);
}

export function deploymentNames(manifests: any[]): string[] {
  return ofKind(manifests, 'Deployment').map((d) => d.metadata.name);
}
