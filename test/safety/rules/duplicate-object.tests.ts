/** `duplicate-object` (src/safety/rules/duplicate-object.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { deployment, fixture, rulesOf, violating, violation } from '../_cases';

describe(SafetyRule.DUPLICATE_OBJECT, () => {
  test('two objects of one kind, namespace and name are reported once', () => {
    const { current } = violating(SafetyRule.DUPLICATE_OBJECT);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DUPLICATE_OBJECT, 'Deployment/helloworld-v1',
      ["is defined 2 times in namespace 'default'", 'only one survives the apply'],
      ['give every object a unique name', 'foo + bar-v1 and foo-bar + v1 both make foo-bar-v1'])]);
  });

  test('duplicate-objects.yaml: app foo + version bar-v1 and app foo-bar + version v1 (other namespaces and kinds do not count)', () => {
    expect(SafetyCheck.check(fixture('duplicate-objects.yaml'))).toEqual([violation(SafetyRule.DUPLICATE_OBJECT, 'Deployment/foo-bar-v1',
      ["is defined 2 times in namespace 'shop'"], ['give every object a unique name'])]);
  });

  test('objects without a namespace count in the namespace of the check', () => {
    // GIVEN one Deployment without namespace, the same one in `shop`
    const bare = deployment('v1');
    delete bare.metadata.namespace;
    const inShop = deployment('v1', { namespace: 'shop' });

    // WHEN / THEN they collide when applied with `-n shop` only
    expect(SafetyCheck.check([bare, inShop])).toEqual([]);
    expect(rulesOf(SafetyCheck.check([bare, inShop], undefined, { namespace: 'shop' }))).toEqual([SafetyRule.DUPLICATE_OBJECT]);
  });
});
