import { HeaderMatchType, ReleaseStage } from '../../src/plan/release-stage';

describe('ReleaseStage', () => {
  test('stable() deploys one version with its subset and all traffic', () => {
    const stage = ReleaseStage.stable('v1');
    expect(stage.name).toBe('stable');
    expect(stage.deployed).toEqual(['v1']);
    expect(stage.routable).toEqual(['v1']);
    expect(stage.weights).toEqual([{ version: 'v1', weight: 100 }]);
    expect(stage.previous).toBeUndefined();
  });

  test('custom() defaults routable to the deployed versions and lists every version', () => {
    const stage = ReleaseStage.custom({
      name: 'ab',
      deployed: ['v1', 'v2'],
      weights: [{ version: 'v1', weight: 100 }],
      headerRoutes: [{ header: 'x-beta', value: 'yes', matchType: HeaderMatchType.EXACT, version: 'v2' }],
      mirror: { version: 'v2', percent: 5 },
    });
    expect(stage.routable).toEqual(['v1', 'v2']);
    expect(stage.versions).toEqual(['v1', 'v2']);
    expect(stage.weightOf('v1')).toBe(100);
    expect(stage.weightOf('v2')).toBe(0);
  });

  test('copies its inputs, so later changes to them do not leak in', () => {
    const deployed = ['v1'];
    const stage = ReleaseStage.custom({ name: 's', deployed, weights: [{ version: 'v1', weight: 100 }] });
    deployed.push('v2');
    expect(stage.deployed).toEqual(['v1']);
  });

  const base = { name: 's', deployed: ['v1', 'v2'] };
  test.each([
    [{ ...base, weights: [{ version: 'v1', weight: 60 }, { version: 'v2', weight: 30 }] },
      "ReleaseStage 's': 'weights' must add up to 100 (they add up to 90), got [\"v1=60\",\"v2=30\"]"],
    [{ ...base, weights: [{ version: 'v1', weight: 110 }, { version: 'v2', weight: -10 }] },
      "ReleaseStage 's': 'weights[v1]' must be an integer between 0 and 100, got 110"],
    [{ ...base, weights: [{ version: 'v1', weight: 50.5 }, { version: 'v2', weight: 49.5 }] },
      "ReleaseStage 's': 'weights[v1]' must be an integer between 0 and 100, got 50.5"],
    [{ ...base, weights: [] }, "ReleaseStage 's': 'weights' must route the catch-all traffic to at least one version, got []"],
    [{ ...base, weights: [{ version: 'v1', weight: 50 }, { version: 'v1', weight: 50 }] }, "ReleaseStage 's': 'weights' must name each version once"],
    [{ ...base, deployed: ['v1', 'v1'], weights: [{ version: 'v1', weight: 100 }] }, "ReleaseStage 's': 'deployed' must name each version once"],
    [{ ...base, weights: [{ version: 'V1', weight: 100 }] }, "ReleaseStage 's': 'version' must be a DNS-1035 label"],
    [{ ...base, name: 'Shift 10', weights: [{ version: 'v1', weight: 100 }] }, "ReleaseStage 'Shift 10': 'name' must be at most 63 lowercase letters"],
    [{ ...base, weights: [{ version: 'v1', weight: 100 }], headerRoutes: [{ header: 'X-Version', value: 'v2', version: 'v2' }] },
      "ReleaseStage 's': 'headerRoutes.header' must be a lowercase HTTP header name"],
    [{ ...base, weights: [{ version: 'v1', weight: 100 }], headerRoutes: [{ header: 'x-version', value: '', version: 'v2' }] },
      "ReleaseStage 's': 'headerRoutes[x-version].value' must not be empty"],
    [{ ...base, weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent: 0 } },
      "ReleaseStage 's': 'mirror.percent' must be above 0 and at most 100, got 0"],
    [{ ...base, weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }], mirror: { version: 'v2' } },
      "ReleaseStage 's': 'mirror.version' must not also receive weighted traffic from the route it mirrors, got \"v2\""],
  ])('fails on %j', (props, message) => {
    expect(() => ReleaseStage.custom(props)).toThrow(message);
  });

  describe('header routes and names (issue 9)', () => {
    const ROUTED = { name: 's', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] };
    const NAME_RULE = "must be at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
      + ' (it names a directory, a CLI argument and a label value)';

    test('fails on a 300-character stage name', () => {
      const name = 'a'.repeat(300);
      expect(() => ReleaseStage.custom({ ...ROUTED, name })).toThrow(`ReleaseStage '${name}': 'name' ${NAME_RULE}, got "${name}"`);
    });

    test('a 63-character stage name is valid, 64 is not', () => {
      expect(ReleaseStage.stable('v1', 'a'.repeat(63)).name).toHaveLength(63);
      expect(() => ReleaseStage.stable('v1', 'a'.repeat(64))).toThrow(`'name' ${NAME_RULE}`);
    });

    test('fails on a matchType that is not a HeaderMatchType (JavaScript, other jsii languages)', () => {
      const headerRoutes = [{ header: 'x-version', value: 'v2', version: 'v2', matchType: 'suffix' as HeaderMatchType }];
      expect(() => ReleaseStage.custom({ ...ROUTED, headerRoutes })).toThrow(
        "ReleaseStage 's': 'headerRoutes[x-version].matchType' must be one of \"exact\", \"prefix\", \"regex\", got \"suffix\"");
    });

    test.each([
      ['(?=lookahead)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
      ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
      ['(unclosed', 'error parsing regexp: missing closing ): `(unclosed`'],
    ])('fails on REGEX value %j, which RE2 does not compile', (value, reason) => {
      const headerRoutes = [{ header: 'x-user', value, version: 'v2', matchType: HeaderMatchType.REGEX }];
      expect(() => ReleaseStage.custom({ ...ROUTED, headerRoutes })).toThrow(
        `ReleaseStage 's': 'headerRoutes[x-user].value' must be an RE2 regular expression (${reason}), got ${JSON.stringify(value)}`);
    });

    test('the same value is fine as an EXACT match', () => {
      const headerRoutes = [{ header: 'x-user', value: '(?=lookahead)', version: 'v2' }];
      expect(ReleaseStage.custom({ ...ROUTED, headerRoutes }).headerRoutes).toHaveLength(1);
    });

    test('fails on a REGEX value longer than 1024 characters', () => {
      const value = 'a'.repeat(1025);
      const headerRoutes = [{ header: 'x-user', value, version: 'v2', matchType: HeaderMatchType.REGEX }];
      expect(() => ReleaseStage.custom({ ...ROUTED, headerRoutes })).toThrow(
        `ReleaseStage 's': 'headerRoutes[x-user].value' must be at most 1024 characters (it is 1025), got "${value}"`);
    });

    test('a valid RE2 REGEX of 1024 characters is accepted', () => {
      const headerRoutes = [{ header: 'x-user', value: `^(alice|bob)${'.'.repeat(1012)}$`.slice(0, 1024), version: 'v2', matchType: HeaderMatchType.REGEX }];
      expect(headerRoutes[0].value).toHaveLength(1024);
      expect(ReleaseStage.custom({ ...ROUTED, headerRoutes }).headerRoutes).toHaveLength(1);
    });

    test('fails on two header routes that would get the same route name', () => {
      const headerRoutes = [
        { header: 'x-user', value: 'alice', version: 'v2' },
        { header: 'x-user', value: 'bob', version: 'v2' },
      ];
      expect(() => ReleaseStage.custom({ ...ROUTED, headerRoutes })).toThrow(
        "ReleaseStage 's': 'headerRoutes' must give each route a distinct name (header-<header>-<version>): send one header to one version once,"
        + ' or combine the values in one REGEX route, got "header-x-user-v2"');
    });

    test('the same header to two versions is fine', () => {
      const headerRoutes = [
        { header: 'x-user', value: 'alice', version: 'v1' },
        { header: 'x-user', value: 'bob', version: 'v2' },
      ];
      expect(ReleaseStage.custom({ ...ROUTED, headerRoutes }).headerRoutes).toHaveLength(2);
    });
  });
});
