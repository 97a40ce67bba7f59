import { reasonForBindRefusal } from '../../src/authn/ldap/ldap-backend';
import type { BindRefused } from '../../src/authn/ldap/ldap-connection';

const refusal = (resultCode: number, resultName: string, adDataCode?: string): BindRefused => ({
  ok: false,
  resultCode,
  resultName,
  message: adDataCode ? `80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data ${adDataCode}, v4563` : '',
  ...(adDataCode ? { adDataCode } : {}),
});

describe('reasonForBindRefusal: what a refused bind means for the login', () => {
  it.each([
    ['52e', 'bad_credentials'],
    ['525', 'unknown_user'],
    ['530', 'account_disabled'],
    ['531', 'account_disabled'],
    ['532', 'password_expired'],
    ['533', 'account_disabled'],
    ['701', 'account_expired'],
    ['773', 'password_must_change'],
    ['775', 'bad_credentials'],
  ])('Active Directory 49 with data %s → %s', (code, reason) => {
    expect(reasonForBindRefusal(refusal(49, 'invalidCredentials', code))).toBe(reason);
  });

  it('plain invalidCredentials (OpenLDAP) is a wrong password', () => {
    expect(reasonForBindRefusal(refusal(49, 'invalidCredentials'))).toBe('bad_credentials');
  });

  it.each([
    [34, 'invalidDNSyntax'],
    [32, 'noSuchObject'],
    [48, 'inappropriateAuthentication'],
    [50, 'insufficientAccessRights'],
    [53, 'unwillingToPerform'],
  ])('any other result (%i %s) is a counted failure of the attempt, never an account state', (code, name) => {
    expect(reasonForBindRefusal(refusal(code, name))).toBe('bad_credentials');
    // Even when the text carries an AD sub-code, only result 49 is read for one.
    expect(reasonForBindRefusal(refusal(code, name, '533'))).toBe('bad_credentials');
  });
});
