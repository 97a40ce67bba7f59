import { type MfaRequirement, policyRequires, secondFactorNeeded } from '../../src/mfa/second-factor-rule';
import type { Role } from '../../src/accounts/account';
import type { FactorKind } from '../../src/storage/mfa-store';

/**
 * The one "is a second factor needed" rule, asked by the login pages (fresh
 * sign-in, step-up) and by REST tickets / API tokens: its whole table.
 */

describe('policyRequires (mfa.require by role)', () => {
  it.each<[MfaRequirement, Role, boolean]>([
    ['never', 'user', false],
    ['never', 'admin', false],
    ['admins', 'user', false],
    ['admins', 'admin', true],
    ['all', 'user', true],
    ['all', 'admin', true],
  ])('%s × %s → %s', (requirement, role, expected) => {
    expect(policyRequires(requirement, role)).toBe(expected);
  });
});

describe('secondFactorNeeded: a fresh sign-in (no session yet, account known)', () => {
  const none: FactorKind[] = [];
  it.each<[MfaRequirement, Role, FactorKind[], boolean, boolean]>([
    // requirement, role, enrolled, requested (authn_method=mfa / service mfa: required), needed
    ['never', 'user', none, false, false],
    ['never', 'admin', none, false, false],
    ['admins', 'user', none, false, false],
    ['admins', 'admin', none, false, true],
    ['all', 'user', none, false, true],
    ['all', 'admin', none, false, true],
    // An enrolled factor is always used, whatever the policy.
    ['never', 'user', ['totp'], false, true],
    ['never', 'user', ['webauthn'], false, true],
    ['never', 'user', ['webauthn', 'recovery'], false, true],
    ['admins', 'user', ['totp', 'recovery'], false, true],
    // A login that asks for one gets one, enrolled or not (no factor yet: enrolment).
    ['never', 'user', none, true, true],
    ['never', 'admin', ['totp'], true, true],
    ['admins', 'user', none, true, true],
  ])('%s × %s × enrolled %j × requested %s → %s', (requirement, role, enrolled, requested, expected) => {
    expect(secondFactorNeeded({ requirement, account: { role, enrolled }, requested, sessionMethods: [] })).toBe(expected);
  });
});

describe('secondFactorNeeded: a live session (step-up, account not read)', () => {
  it.each<[string[], boolean, boolean]>([
    // session methods, requested, needed
    [['password'], false, false],
    [['spnego'], false, false],
    [['password'], true, true],
    [['spnego'], true, true],
    [['password', 'totp'], true, false],
    [['password', 'recovery'], true, false],
    [['spnego', 'webauthn'], true, false],
    [['passkey'], true, false],
  ])('methods %j × requested %s → %s', (sessionMethods, requested, expected) => {
    for (const requirement of ['never', 'admins', 'all'] as const) {
      expect(secondFactorNeeded({ requirement, requested, sessionMethods })).toBe(expected);
    }
  });

  it('never asks again of a session that has a second factor, whatever the account and the login', () => {
    for (const sessionMethods of [['password', 'totp'], ['passkey'], ['spnego', 'webauthn']]) {
      for (const requested of [false, true]) {
        expect(secondFactorNeeded({ requirement: 'all', account: { role: 'admin', enrolled: ['totp'] }, requested, sessionMethods })).toBe(false);
      }
    }
  });
});
