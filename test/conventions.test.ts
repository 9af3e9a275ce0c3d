import { Duration, Testing } from 'cdk8s';
import { checkDns1123Label, checkPort, ISTIO_RESERVED_PORTS, istioDuration } from '../src/_validation';

const scope = () => Testing.chart();

describe('checkDns1123Label', () => {
  test.each(['1shop', 'default', 'a', 'team-1', 'a'.repeat(63)])('accepts %j', (value) => {
    expect(() => checkDns1123Label(scope(), 'namespace', value)).not.toThrow();
  });

  test.each(['Shop', '-shop', 'shop-', 'sh_op', 'sh.op', '', 'a'.repeat(64)])('fails on %j', (value) => {
    expect(() => checkDns1123Label(scope(), 'namespace', value)).toThrow(
      "[test] 'namespace' must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit,"
      + ` at most 63 characters, got ${JSON.stringify(value)}`);
  });
});

describe('checkPort', () => {
  test('Istio reserved ports are the ones of https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio', () => {
    expect(ISTIO_RESERVED_PORTS).toEqual([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090]);
  });

  test.each([15010, 15443, 8080, 1])('accepts %p', (port) => {
    expect(() => checkPort(scope(), 'port', port)).not.toThrow();
  });

  test('fails on 15020 as the app port', () => {
    expect(() => checkPort(scope(), 'port', 15020)).toThrow(
      "[test] 'port' must not be a port the Istio sidecar uses (15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090;"
      + ' see https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio), got 15020');
  });
});

describe('istioDuration', () => {
  test.each([
    [Duration.millis(1500), '1500ms'],
    [Duration.millis(1), '1ms'],
    [Duration.seconds(10), '10s'],
    [Duration.minutes(2), '120s'],
    [Duration.millis(2000), '2s'],
    [Duration.days(106_751), '9223286400s'],
    [Duration.millis(9_223_372_036_854), '9223372036854ms'],
  ])('%s is %j', (value, expected) => {
    expect(istioDuration(scope(), 'timeout', value)).toBe(expected);
  });

  test.each([
    [Duration.millis(0), '0s'],
    [Duration.millis(0.5), '0.0005s'],
    [Duration.millis(1500.5), '1.5005s'],
    // past a Go time.Duration: the CEL rules of Istio's CRDs cannot read it, and the API server refuses the object
    [Duration.millis(9_223_372_036_855), '9223372036.855s'],
    [Duration.days(3_652_500), '315576000000s'],
  ])('fails on %s', (value, shown) => {
    expect(() => istioDuration(scope(), 'timeout', value)).toThrow(
      `[test] 'timeout' must be a whole number of milliseconds between 1ms and 9223372036854ms (about 292 years: the CEL rules of Istio's CRDs read durations as Go durations), got ${shown}`);
  });
});
