import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { directoryEnv } from './directory-env';

type BackendsInput = NonNullable<NonNullable<ConfigInput['authentication']>['backends']>;
export type BackendInput = BackendsInput[number];

/** Environment variable the test configs read the slapd service password from. */
export const LDAP_SERVICE_PASSWORD_ENV = 'PORTCULLIS_TEST_LDAP_SERVICE_PASSWORD';
export const AD_SERVICE_PASSWORD_ENV = 'PORTCULLIS_TEST_AD_SERVICE_PASSWORD';

/** Env for building backends directly with `passwordEnv` settings. */
export function directorySecretsEnv(): NodeJS.ProcessEnv {
  const env = directoryEnv();
  return { [LDAP_SERVICE_PASSWORD_ENV]: env.ldap.servicePassword, [AD_SERVICE_PASSWORD_ENV]: env.ad.bindPassword };
}

let secretFiles: { ldap: string; ad: string } | null = null;

/** Service-account passwords as 0600 files (createTestContext builds services without environment). */
function servicePasswordFiles(): { ldap: string; ad: string } {
  const env = directoryEnv();
  secretFiles ??= { ldap: secretFile(env.ldap.servicePassword, 0o600), ad: secretFile(env.ad.bindPassword, 0o600) };
  return secretFiles;
}

/** Search-then-bind against the test slapd over LDAPS with the right CA; override anything. */
export function slapdBackend(overrides: Record<string, unknown> = {}): BackendInput {
  const env = directoryEnv().ldap;
  return {
    type: 'ldap',
    name: 'ldap',
    url: env.ldapsUrl,
    caFile: env.caFile,
    serviceAccount: { dn: env.serviceDn, passwordFile: servicePasswordFiles().ldap },
    searchBase: env.peopleDn,
    searchFilter: '(uid={{username}})',
    attributes: { release: ['employeeNumber'] },
    groupRoles: { [env.adminGroupDn]: 'admin' },
    connectTimeoutSeconds: 2,
    operationTimeoutSeconds: 3,
    ...overrides,
  } as BackendInput;
}

/** The Samba AD windows backend (Kerberos + LDAPS directory lookup). */
export function adWindowsBackend(overrides: Record<string, unknown> = {}): BackendInput {
  const ad = directoryEnv().ad;
  return {
    type: 'windows',
    name: 'windows',
    realm: ad.realm,
    domain: ad.domain,
    krb5Config: ad.krb5Conf,
    keytab: ad.keytab,
    servicePrincipal: ad.servicePrincipal,
    spnego: true,
    directory: {
      url: ad.ldapsUrl,
      caFile: ad.caFile,
      serviceAccount: { dn: ad.bindUpn, passwordFile: servicePasswordFiles().ad },
      searchBase: ad.baseDn,
    },
    groupRoles: { [ad.adminGroupDn]: 'admin' },
    ...overrides,
  } as BackendInput;
}

/** Writes a secret file with the given mode in a fresh temporary directory. */
export function secretFile(content: string, mode: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-secret-'));
  const file = path.join(dir, 'secret');
  writeFileSync(file, `${content}\n`);
  chmodSync(file, mode);
  return file;
}
