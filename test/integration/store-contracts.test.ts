import { CachingServiceRegistry } from '../../src/cas/service-registry';
import { MeteredTicketRegistry } from '../../src/ops/metered-tickets';
import { AccountRepository } from '../../src/storage/accounts-repo';
import { KnexApiTokenStore } from '../../src/storage/api-token-store';
import { AuditLog } from '../../src/storage/audit-log';
import { ClientThrottleStore } from '../../src/storage/client-throttle-store';
import { KnexJobLeaseStore } from '../../src/storage/job-lease-store';
import { LockoutStore } from '../../src/storage/lockout-store';
import { MfaStore } from '../../src/storage/mfa-store';
import { KnexServiceStore } from '../../src/storage/service-store';
import { KnexSingleLogoutStore } from '../../src/storage/single-logout-store';
import { KnexTicketStore } from '../../src/storage/ticket-store';
import { WebAuthnStore } from '../../src/storage/webauthn-store';
import { ManualClock } from '../../src/shared/clock';
import { accountStoreContract } from '../contracts/account-store.contract';
import { TOKEN_OWNERS, apiTokenStoreContract } from '../contracts/api-token-store.contract';
import { auditLogContract } from '../contracts/audit-log.contract';
import { clientThrottleStoreContract } from '../contracts/client-throttle-store.contract';
import { jobLeaseStoreContract } from '../contracts/job-lease-store.contract';
import { lockoutStoreContract } from '../contracts/lockout-store.contract';
import { serviceRegistryContract } from '../contracts/service-registry.contract';
import { singleLogoutStoreContract } from '../contracts/single-logout-store.contract';
import { knexStoreFactory } from '../contracts/store-database';
import { ticketRegistryContract } from '../contracts/ticket-registry.contract';
import type { Knex } from 'knex';
import { CONTRACT_ACCOUNTS } from '../contracts/contract-accounts';
import { mfaStoreContract } from '../contracts/mfa-store.contract';
import { webAuthnStoreContract } from '../contracts/webauthn-store.contract';
import { NoticeStore } from '../../src/storage/notice-store';
import { noticeStoreContract } from '../contracts/notice-store.contract';
import { KeyStore } from '../../src/storage/key-store';
import { keyStoreContract } from '../contracts/key-store.contract';

/**
 * The knex stores against their contracts (test/contracts/), on the database
 * PORTCULLIS_TEST_DB selects: SQLite in the test command's first pass,
 * PostgreSQL in its third. A new implementation of a store interface
 * registers here with its own factory and gets the whole contract.
 */
lockoutStoreContract('knex', knexStoreFactory((knex) => new LockoutStore(knex)));
clientThrottleStoreContract('knex', knexStoreFactory((knex) => new ClientThrottleStore(knex)));
ticketRegistryContract('knex', knexStoreFactory((knex) => new KnexTicketStore(knex)));
// The metrics decorator must keep whatever contract the store it wraps keeps.
ticketRegistryContract('knex, metered', knexStoreFactory((knex) => new MeteredTicketRegistry(new KnexTicketStore(knex), () => undefined)));
auditLogContract('knex', knexStoreFactory((knex) => new AuditLog(knex)));
jobLeaseStoreContract('knex', knexStoreFactory((knex) => new KnexJobLeaseStore(knex)));
singleLogoutStoreContract('knex', knexStoreFactory((knex) => new KnexSingleLogoutStore(knex)));
// The registry over the knex store, without the snapshot cache and with it (an instance's own writes refresh it at once).
serviceRegistryContract('knex', knexStoreFactory((knex) => new CachingServiceRegistry(new KnexServiceStore(knex), new ManualClock(), 0)));
serviceRegistryContract('knex, cached', knexStoreFactory((knex) => new CachingServiceRegistry(new KnexServiceStore(knex), new ManualClock(), 60)));
apiTokenStoreContract('knex', knexStoreFactory((knex) => new KnexApiTokenStore(knex), seedAccounts(TOKEN_OWNERS)));

// The account store, with the lockout and second-factor stores whose rows its reads join.
accountStoreContract(
  'knex',
  knexStoreFactory((knex) => ({ accounts: new AccountRepository(knex), lockout: new LockoutStore(knex), mfa: new MfaStore(knex), webauthn: new WebAuthnStore(knex) })),
);

// Second factors and the other stores of sign-in pages; their rows belong to accounts the seed adds.
mfaStoreContract('knex', knexStoreFactory((knex) => new MfaStore(knex), seedAccounts(CONTRACT_ACCOUNTS)));
webAuthnStoreContract('knex', knexStoreFactory((knex) => new WebAuthnStore(knex), seedAccounts(CONTRACT_ACCOUNTS)));
noticeStoreContract('knex', knexStoreFactory((knex) => new NoticeStore(knex), seedAccounts(CONTRACT_ACCOUNTS)));
keyStoreContract('knex', knexStoreFactory((knex) => new KeyStore(knex)));

/** A seed step adding these accounts with these ids. */
function seedAccounts(owners: { id: number; username: string }[]): (knex: Knex) => Promise<void> {
  return async (knex) => {
    const accounts = new AccountRepository(knex);
    for (const { id, username } of owners) {
      const account = await accounts.insert({ username, usernameKey: username, role: 'user', source: 'internal' }, 1);
      await knex('accounts').where({ id: account.id }).update({ id });
    }
  };
}
