/** The PromQL of the built-in metrics and the custom queries' placeholders (analysis/_promql.ts, analysis/_template.ts). */
import { latencyQuery, metricQuery, QueryTarget, successRateQuery } from '../../src/analysis/_promql';
import { renderQuery, unknownPlaceholders } from '../../src/analysis/_template';

const candidate: QueryTarget = { namespace: 'shop', app: 'reviews', version: 'v2', reporter: 'destination', windowSeconds: 60 };

describe('built-in metrics', () => {
  test('success rate: non-5xx share of the workload\'s requests reported by its sidecar over the interval, 0 (not empty) when all are 5xx', () => {
    expect(successRateQuery(candidate)).toBe(
      '(sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="reviews-v2",response_code!~"5.."}[60s]))'
      + ' or on() vector(0))'
      + ' / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="reviews-v2"}[60s])) * 100');
  });

  test('latency: histogram_quantile of the duration buckets by le, the percentile as a fraction', () => {
    expect(latencyQuery(candidate, 99.9)).toBe('histogram_quantile(0.999, sum by (le) (rate(istio_request_duration_milliseconds_bucket'
      + '{reporter="destination",destination_workload_namespace="shop",destination_workload="reviews-v2"}[60s])))');
  });

  test('ambient mode reads the waypoint\'s reports; the stable baseline its own workload', () => {
    const query = successRateQuery({ ...candidate, version: 'v1', reporter: 'waypoint', windowSeconds: 5 });
    expect(query).toContain('{reporter="waypoint",destination_workload_namespace="shop",destination_workload="reviews-v1"}[5s]');
    expect(query).not.toContain('destination"');
  });
});

test('names from hand-written YAML cannot break out of the label matchers\' quotes', () => {
  const hostile = { ...candidate, app: 'reviews"} or vector(100) #' };
  expect(successRateQuery(hostile)).toContain('destination_workload="reviews\\"} or vector(100) #-v2"');
  expect(metricQuery({ name: 'q', type: 'prometheus', query: 'max(q{w="{{ workload }}"})', max: 1 }, hostile))
    .toBe('max(q{w="reviews\\"} or vector(100) #-v2"})');
});

describe('custom queries', () => {
  test('every placeholder is replaced, with or without spaces in the braces', () => {
    const query = 'max(q{ns="{{ namespace }}",app="{{app}}",v="{{  version }}",w="{{ workload }}"}[{{ interval }}])';
    expect(metricQuery({ name: 'q', type: 'prometheus', query, max: 1 }, candidate))
      .toBe('max(q{ns="shop",app="reviews",v="v2",w="reviews-v2"}[60s])');
    expect(renderQuery('vector(1)', { namespace: 'a', app: 'b', version: 'c', workload: 'b-c', interval: '1s' })).toBe('vector(1)');
  });

  test('unknown placeholders and unpaired braces are found (Flagger\'s {{ target }} included)', () => {
    expect(unknownPlaceholders('rate(x{w="{{ target }}"}[{{ interval }}]) + {{ args.name }}')).toEqual(['{{ target }}', '{{ args.name }}']);
    expect(unknownPlaceholders('x{w="{{ workload }"}')).toEqual(['{{ without }}']);
    expect(unknownPlaceholders('x{w="{ workload }}"}')).toEqual(['}} without {{']);
    expect(unknownPlaceholders('sum(rate(x{a=~"b{2}"}[1m]))')).toEqual([]);
  });
});
