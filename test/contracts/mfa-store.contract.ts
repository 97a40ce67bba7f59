import type { FactorStore } from '../../src/mfa/mfa-service';
import type { MfaStore, StoredFactor } from '../../src/storage/mfa-store';
import { ALICE, BOB, raceWins } from './contract-accounts';
import { type StoreFactory, freshStores } from './store-database';

/**
 * What a second-factor store must offer: MfaService's interface
 * (src/mfa/mfa-service.ts), plus the two calls the composition roots make on
 * the class for the secret key (services.ts: must a key exist at boot;
 * cli/mfa-commands.ts: key rotation). The knex one is src/storage/mfa-store.ts.
 */
export type MfaStoreContract = FactorStore & Pick<MfaStore, 'anyExist' | 'resealAll'>;

const T0 = 1_700_000_000_000;
const STEP = 56_666_666;
const HASHES = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];

const kindsOf = (factors: StoredFactor[]) => factors.map((f) => f.kind);
const sorted = <T>(values: T[]) => [...values].sort();

/** TOTP factors (sealed secrets, single-use steps) and recovery codes (hashes, single use), per account. */
export function mfaStoreContract(name: string, factory: StoreFactory<MfaStoreContract>): void {
  describe(`MfaStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('stores a TOTP factor with its recovery codes in one step, visible to another instance', async () => {
      const { store, other } = stores();
      const id = await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, HASHES, T0);
      const factors = await other.list(ALICE);
      expect(factors[0]).toEqual({ id, accountId: ALICE, kind: 'totp', name: 'phone', secret: 'v1.sealed', codeHash: null, lastUsedStep: STEP, createdAt: T0, lastUsedAt: T0 });
      expect(factors.slice(1)).toEqual(
        HASHES.map((hash, i) => ({ id: expect.any(Number), accountId: ALICE, kind: 'recovery', name: `recovery-${i + 1}`, secret: null, codeHash: hash, lastUsedStep: null, createdAt: T0, lastUsedAt: null })),
      );
      expect(sorted(await other.kinds(ALICE))).toEqual(['recovery', 'totp']);
      expect(await other.list(BOB)).toEqual([]);
      expect(await other.kinds(BOB)).toEqual([]);
    });

    it('adds a second TOTP factor without recovery codes; lists factors in the order they were added', async () => {
      const { store } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.one', STEP, [HASHES[0]], T0);
      await store.addTotp(ALICE, 'tablet', 'v1.two', STEP, [], T0 + 1);
      expect((await store.list(ALICE)).map((f) => f.name)).toEqual(['phone', 'recovery-1', 'tablet']);
      expect(sorted(await store.kinds(ALICE))).toEqual(['recovery', 'totp']);
    });

    it('says whether any sealed secret exists: not for an empty store nor for recovery codes alone', async () => {
      const { store, other } = stores();
      expect(await store.anyExist()).toBe(false);
      await store.replaceRecoveryCodes(BOB, HASHES, T0);
      expect(await store.anyExist()).toBe(false);
      await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, [], T0);
      expect(await other.anyExist()).toBe(true);
    });

    it("replaces only this account's recovery codes, keeping its TOTP factor", async () => {
      const { store } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, HASHES, T0);
      await store.addTotp(BOB, 'phone', 'v1.bob', STEP, HASHES, T0);
      await store.replaceRecoveryCodes(ALICE, ['d'.repeat(64), 'e'.repeat(64)], T0 + 5);
      const alice = await store.list(ALICE);
      expect(kindsOf(alice)).toEqual(['totp', 'recovery', 'recovery']);
      expect(alice.slice(1).map((f) => [f.name, f.codeHash, f.createdAt])).toEqual([
        ['recovery-1', 'd'.repeat(64), T0 + 5],
        ['recovery-2', 'e'.repeat(64), T0 + 5],
      ]);
      expect((await store.list(BOB)).map((f) => f.codeHash)).toEqual([null, ...HASHES]);
    });

    it('accepts a TOTP step only when it is later than the last one used, on any instance', async () => {
      const { store, other } = stores();
      const id = await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, [], T0);
      expect(await other.useStep(id, STEP, T0 + 1)).toBe(false);
      expect(await other.useStep(id, STEP - 1, T0 + 1)).toBe(false);
      expect(await other.useStep(id, STEP + 1, T0 + 2)).toBe(true);
      expect(await store.useStep(id, STEP + 1, T0 + 3)).toBe(false);
      expect(await store.list(ALICE)).toEqual([expect.objectContaining({ id, lastUsedStep: STEP + 1, lastUsedAt: T0 + 2 })]);
      expect(await store.useStep(id + 1000, STEP + 2, T0 + 4)).toBe(false);
    });

    it('of 20 uses of one TOTP step racing from two instances, exactly one is accepted', async () => {
      const { store, other } = stores();
      const id = await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, [], T0);
      expect(await raceWins([store, other], (s) => s.useStep(id, STEP + 1, T0 + 1))).toBe(1);
      expect(await raceWins([store, other], (s) => s.useStep(id, STEP + 2, T0 + 2))).toBe(1);
    });

    it('consumes a recovery code once and flags the account for review; never a TOTP factor', async () => {
      const { store, other } = stores();
      const totp = await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, HASHES, T0);
      const [, code] = await store.list(ALICE);
      expect(await store.reviewFlag(ALICE)).toBe(false);
      expect(await store.consumeRecoveryCode(totp, ALICE)).toBe(false);
      expect(await store.reviewFlag(ALICE)).toBe(false);
      expect(await other.consumeRecoveryCode(code.id, ALICE)).toBe(true);
      expect(await store.consumeRecoveryCode(code.id, ALICE)).toBe(false);
      expect(await store.reviewFlag(ALICE)).toBe(true);
      expect(await store.reviewFlag(BOB)).toBe(false);
      expect((await store.list(ALICE)).map((f) => f.codeHash)).toEqual([null, HASHES[1], HASHES[2]]);
    });

    // Through one instance's pool (concurrent connections on PostgreSQL): the store may use a transaction, and two
    // SQLite pools in one process would stall each other's (better-sqlite3 waits for a lock synchronously); two
    // processes never share a SQLite file (the data-dir lock).
    it('of 20 uses of one recovery code racing, exactly one consumes it', async () => {
      const { store } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, HASHES, T0);
      const [, code] = await store.list(ALICE);
      expect(await raceWins([store], (s) => s.consumeRecoveryCode(code.id, ALICE))).toBe(1);
      expect(await store.list(ALICE)).toHaveLength(HASHES.length);
    });

    it("removes a factor of the account only; with the account's last other factor, its recovery codes go too", async () => {
      const { store } = stores();
      const phone = await store.addTotp(ALICE, 'phone', 'v1.one', STEP, HASHES, T0);
      const tablet = await store.addTotp(ALICE, 'tablet', 'v1.two', STEP, [], T0);
      expect(await store.remove(BOB, phone)).toBeNull();
      expect(await store.remove(ALICE, phone + 1000)).toBeNull();
      expect(await store.remove(ALICE, phone)).toEqual(expect.objectContaining({ id: phone, accountId: ALICE, kind: 'totp', name: 'phone' }));
      expect(kindsOf(await store.list(ALICE))).toEqual(['recovery', 'recovery', 'recovery', 'totp']);
      expect(await store.remove(ALICE, tablet)).toEqual(expect.objectContaining({ id: tablet, name: 'tablet' }));
      expect(await store.list(ALICE)).toEqual([]);
      expect(await store.remove(ALICE, tablet)).toBeNull();
    });

    it("resets an account: removes all its factors, says how many, and clears its review flag; other accounts keep theirs", async () => {
      const { store, other } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.sealed', STEP, HASHES, T0);
      await store.addTotp(BOB, 'phone', 'v1.bob', STEP, HASHES, T0);
      const [, code] = await store.list(ALICE);
      await store.consumeRecoveryCode(code.id, ALICE);
      expect(await other.reset(ALICE)).toBe(3);
      expect(await store.list(ALICE)).toEqual([]);
      expect(await store.reviewFlag(ALICE)).toBe(false);
      expect(await store.list(BOB)).toHaveLength(4);
      expect(await store.reset(ALICE)).toBe(0);
    });

    it('re-seals every TOTP secret of every account, giving each its account; says how many', async () => {
      const { store, other } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.alice', STEP, HASHES, T0);
      await store.addTotp(BOB, 'phone', 'v1.bob', STEP, [], T0);
      expect(await other.resealAll((secret, accountId) => `v2.${accountId}.${secret}`)).toBe(2);
      expect((await store.list(ALICE)).map((f) => f.secret)).toEqual(['v2.7.v1.alice', null, null, null]);
      expect((await store.list(BOB)).map((f) => f.secret)).toEqual(['v2.8.v1.bob']);
    });

    it('re-seals all or nothing: a secret that cannot be re-sealed leaves every secret as it was', async () => {
      const { store } = stores();
      await store.addTotp(ALICE, 'phone', 'v1.alice', STEP, [], T0);
      await store.addTotp(BOB, 'phone', 'v1.bob', STEP, [], T0);
      const reseal = (secret: string, accountId: number) => {
        if (accountId === BOB) throw new Error('cannot open');
        return `v2.${secret}`;
      };
      await expect(store.resealAll(reseal)).rejects.toThrow('cannot open');
      expect([...(await store.list(ALICE)), ...(await store.list(BOB))].map((f) => f.secret)).toEqual(['v1.alice', 'v1.bob']);
    });
  });
}
