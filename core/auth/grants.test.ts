import { describe, expect, it } from 'vitest';
import { ROLES } from '../vocabulary.js';
import { adminScopeOf, administersAny, grantable, nextGrants, reaches, regionWide } from './grants.js';

const known = (id: string) => id === 'prov-a' || id === 'prov-b';

describe('the grant rule', () => {
  it('binds an operator to no provider, a clerk, executor or head to a known one, the others to either', () => {
    const at = (providerId: string) => ROLES.filter((r) => grantable(r, providerId, known));
    expect(at('')).toEqual(['operator', 'monitoring', 'admin']);
    expect(at('prov-a')).toEqual(['clerk', 'executor', 'head', 'monitoring', 'admin']);
    expect(at('prov-unknown')).toEqual([]);
  });

  it('scopes an administrator to the providers of their admin grants, or to everything when bound to none', () => {
    const bound = adminScopeOf([
      { role: 'admin', providerId: 'prov-a' },
      { role: 'head', providerId: 'prov-b' },
    ]);
    expect(bound).toEqual({ systemWide: false, providerIds: new Set(['prov-a']) });
    expect([
      reaches(bound, 'prov-a', 'clerk'),
      reaches(bound, 'prov-b', 'clerk'),
      reaches(bound, '', 'operator'),
    ]).toEqual([true, false, false]);
    const systemWide = adminScopeOf([{ role: 'admin', providerId: '' }]);
    expect([reaches(systemWide, 'prov-b', 'clerk'), reaches(systemWide, '', 'operator')]).toEqual([true, true]);
    expect(administersAny(adminScopeOf([{ role: 'head', providerId: 'prov-a' }]))).toBe(false);
  });

  it('keeps the grants out of reach, replaces the ones within it, and lists each once', () => {
    const scope = adminScopeOf([{ role: 'admin', providerId: 'prov-a' }]);
    const current = [
      { role: 'executor', providerId: 'prov-a' },
      { role: 'head', providerId: 'prov-b' },
      { role: 'monitoring', providerId: '' },
    ];
    const requested = [
      { role: 'head', providerId: 'prov-a' },
      { role: 'head', providerId: 'prov-a' },
      { role: 'clerk', providerId: 'prov-b' },
    ];
    expect(nextGrants(scope, current, requested)).toEqual([
      { role: 'head', providerId: 'prov-b' },
      { role: 'monitoring', providerId: '' },
      { role: 'head', providerId: 'prov-a' },
    ]);
  });

  it('attack: a provider administrator grants monitoring at their own office (the whole region) — refused', () => {
    const provider = adminScopeOf([{ role: 'admin', providerId: 'prov-a' }]);
    expect(reaches(provider, 'prov-a', 'monitoring')).toBe(false);
    expect(reaches(provider, 'prov-a', 'head')).toBe(true);
    // What setRoles writes: the requested monitoring is left out, one a system administrator gave stays.
    const current = [{ role: 'monitoring', providerId: 'prov-a' }];
    expect(nextGrants(provider, [], [{ role: 'monitoring', providerId: 'prov-a' }])).toEqual([]);
    expect(nextGrants(provider, current, [])).toEqual(current);
    const system = adminScopeOf([{ role: 'admin', providerId: '' }]);
    expect(reaches(system, 'prov-a', 'monitoring')).toBe(true);
    expect(nextGrants(system, [], [{ role: 'monitoring', providerId: 'prov-a' }])).toEqual(current);
  });

  it('counts monitoring anywhere and every role bound to no provider as region-wide', () => {
    expect(ROLES.filter((r) => regionWide(r, 'prov-a'))).toEqual(['monitoring']);
    expect(ROLES.filter((r) => regionWide(r, ''))).toEqual([...ROLES]);
  });
});
