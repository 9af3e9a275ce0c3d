/** Istio's `protocol` (src/routing/istio/rules/protocol.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import {
  APP, deployment, destinationRule, fixture, HOST, service, violation, virtualService, virtualServiceOf, weighted,
} from '../../../safety/_cases';

describe(SafetyRule.PROTOCOL, () => {
  const withPorts = (...ports: any[]) => [service({ app: APP }, ports), deployment('v1'), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];

  test.each([
    [{ name: 'tcp', port: 3000 }, 'tcp'],
    [{ name: 'mongo', port: 27017 }, 'mongo'],
    [{ name: 'https', port: 443 }, 'https'],
    [{ name: 'tls-api', port: 443 }, 'tls'],
    [{ name: 'http', port: 3000, appProtocol: 'tcp' }, 'tcp'],
    // a well-known port (MySQL) whose name says no protocol Istio knows: TCP (kube ConvertProtocol)
    [{ name: 'db', port: 3306 }, 'tcp'],
    [{ name: 'dns', port: 53, protocol: 'UDP' }, 'udp'],
  ])('http routes for a Service whose only port is %j are reported', (port, protocol) => {
    expect(SafetyCheck.check(withPorts(port))).toEqual([violation(SafetyRule.PROTOCOL, 'VirtualService/helloworld',
      [`has http routes for ${HOST}, whose Service ports are ${protocol}`, 'Istio applies http routes to HTTP ports only, so its weights do nothing'],
      ["name the Service port 'http' (or set appProtocol http/http2/grpc), or route the port with tcp routes"])]);
  });

  test.each([
    [{ name: 'http-web', port: 3000 }],
    [{ name: 'grpc', port: 3000 }],
    [{ name: 'tcp', port: 3000, appProtocol: 'http' }],
    [{ name: 'web', port: 3000, appProtocol: 'kubernetes.io/h2c' }],
    [{ port: 3000 }],
    // a name with no protocol Istio knows: sniffed, and http routes apply (IsHTTPOrSniffed)
    [{ name: 'web', port: 3000 }],
    [{ name: 'grpc-web', port: 3000 }],
  ])('http routes for a port %j are fine', (port) => {
    expect(SafetyCheck.check(withPorts(port))).toEqual([]);
  });

  test('a tcp port next to an http port is fine (the http routes apply to the http port)', () => {
    expect(SafetyCheck.check(withPorts({ name: 'http', port: 3000 }, { name: 'tcp-metrics', port: 9090 }))).toEqual([]);
  });

  test('protocol-tcp-port.yaml: appProtocol tcp wins over the port name', () => {
    expect(SafetyCheck.check(fixture('protocol-tcp-port.yaml'))).toEqual([violation(SafetyRule.PROTOCOL, 'VirtualService/reviews',
      ['whose Service ports are tcp'], ['appProtocol'])]);
  });

  test('tcp-route-undefined-subset.yaml: tcp routes are read like http routes (and fit a mongo port)', () => {
    expect(SafetyCheck.check(fixture('tcp-route-undefined-subset.yaml'))).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/mongodb tcp[0]',
      ["routes to subset 'v2' of mongodb.bookinfo.svc.cluster.local", 'which no DestinationRule of this stage defines'],
      ["add subset 'v2' to the DestinationRule of mongodb.bookinfo.svc.cluster.local"])]);
  });

  test('tls routes are read like http routes', () => {
    const current = [service({ app: APP }, [{ name: 'tls', port: 443 }]), deployment('v1'), destinationRule(['v1']),
      virtualServiceOf(APP, { tls: [{ match: [{ port: 443, sniHosts: ['helloworld.example.com'] }], route: [{ destination: { host: APP, subset: 'v9' } }] }] })];
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld tls[0]', ["routes to subset 'v9'"], ["add subset 'v9'"])]);
  });
});
