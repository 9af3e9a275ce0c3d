/**
 * An object as the API server would keep it (src/validation/_served.ts): unknown fields dropped, refused on any
 * other finding; what `mesh-release check` gives the safety rules after the schemas.
 */
import { servedObject } from '../../src/validation/_served';
import { validateManifests } from '../../src/validation/_validate';

describe('servedObject', () => {
  const vs = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'web', namespace: 'shop', labels: { 'a/b': 'c' } },
    spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web' }, port: { number: 80 }, subset: 'v1', weight: 100 }] }] },
  };

  test('an object without findings is served as written', () => {
    expect(servedObject(vs, [])).toEqual({ as: 'written', object: vs });
  });

  test('unknown fields only: served without them (a copy; the written object is left alone)', () => {
    const found = validateManifests([vs]).violations;
    expect(found.map((v) => v.path)).toEqual(['/spec/http/0/route/0/port', '/spec/http/0/route/0/subset']);
    const served = servedObject(vs, found);
    expect(served).toEqual({
      as: 'pruned',
      object: { ...vs, spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web' }, weight: 100 }] }] } },
      pruned: ['/spec/http/0/route/0/port', '/spec/http/0/route/0/subset'],
    });
    expect(vs.spec.http[0].route[0].subset).toBe('v1');
  });

  test("pointer escapes are undone ('~1' is '/', '~0' is '~')", () => {
    const object = { metadata: { 'x/y': 1, 'a~b': 2, 'keep': 3 } };
    expect(servedObject(object, [{ path: '/metadata/x~1y', message: 'unknown field "x/y"' }, { path: '/metadata/a~0b', message: 'unknown field "a~b"' }]))
      .toMatchObject({ as: 'pruned', object: { metadata: { keep: 3 } } });
  });

  test.each([
    ['a type error', [{ path: '/spec/http', message: 'must be array' }]],
    ['an unknown field beside another finding', [{ path: '/spec/x', message: 'unknown field "x"' }, { path: '/spec/hosts', message: 'must be array' }]],
    ['a finding on the whole object', [{ path: '', message: 'unknown field "x"' }]],
  ])('%s: refused', (_name, findings) => {
    expect(servedObject(vs, findings)).toEqual({ as: 'refused' });
  });
});
