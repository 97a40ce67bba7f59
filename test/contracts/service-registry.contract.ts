import type { ServiceRegistry } from '../../src/cas/service-registry';
import { ConflictError, InputError, NotFoundError } from '../../src/shared/errors';
import { type StoreFactory, freshStores } from './store-database';

/**
 * The registered-service store's contract (src/cas/service-registry.ts), for
 * a registry whose view for matching is not cached (or whose cache this
 * instance's writes refresh). URL pattern syntax, match order and the
 * per-field validation are test/integration/cas-service-registry.test.ts's
 * (through the wired app) and test/unit/service-pattern.test.ts's.
 */
export function serviceRegistryContract(name: string, factory: StoreFactory<ServiceRegistry>): void {
  describe(`ServiceRegistry contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('stores every field, with defaults for those left out, and gives the record back by id and by name, to any instance', async () => {
      const { store, other } = stores();
      const full = await store.create({
        name: 'portal',
        description: 'Staff portal',
        serviceUrl: 'https://portal.example.org/**',
        evaluationOrder: 5,
        enabled: false,
        proxyCallback: 'https://portal.example.org/pgt/*',
        acceptsProxyTickets: true,
        releasedAttributes: ['mail', 'displayName'],
        logoutType: 'none',
        logoutUrl: 'https://portal.example.org/slo',
        mfa: 'required',
      });
      expect(full).toEqual({
        id: expect.any(Number), name: 'portal', description: 'Staff portal', serviceUrl: 'https://portal.example.org/**', evaluationOrder: 5, enabled: false,
        proxyCallback: 'https://portal.example.org/pgt/*', acceptsProxyTickets: true, releasedAttributes: ['mail', 'displayName'], logoutType: 'none',
        logoutUrl: 'https://portal.example.org/slo', mfa: 'required', createdAt: expect.any(Number), updatedAt: expect.any(Number), version: 1,
      });
      expect(await other.get(full.id)).toEqual(full);
      expect(await other.findByName('portal')).toEqual(full);
      const plain = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/' });
      expect(plain).toMatchObject({ description: null, evaluationOrder: 0, enabled: true, proxyCallback: null, acceptsProxyTickets: false, releasedAttributes: [], logoutType: 'back_channel', logoutUrl: null, mfa: 'optional' });
      expect(await store.get(plain.id + 1000)).toBeNull();
      expect(await store.findByName('nope')).toBeNull();
    });

    it('lists by evaluation order, then by creation', async () => {
      const { store } = stores();
      for (const [n, order] of [['c', 2], ['a', 1], ['b', 2], ['d', 0]] as const) await store.create({ name: n, serviceUrl: `https://${n}.example.org/`, evaluationOrder: order });
      expect((await store.list()).map((s) => s.name)).toEqual(['d', 'a', 'c', 'b']);
    });

    it('stores nothing invalid', async () => {
      const { store } = stores();
      await expect(store.create({ name: 'bad', serviceUrl: 'https://*.example.org/' })).rejects.toBeInstanceOf(InputError);
      const app = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/' });
      await expect(store.update(app.id, { logoutUrl: 'file:///etc/passwd' })).rejects.toBeInstanceOf(InputError);
      expect(await store.list()).toEqual([app]);
    });

    it('of two instances creating one name at once, exactly one succeeds; the other gets a conflict', async () => {
      const { store, other } = stores();
      const results = await Promise.allSettled([store, other, store, other].map((s, i) => s.create({ name: 'app', serviceUrl: `https://app${i}.example.org/` })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      expect(await store.list()).toHaveLength(1);
    });

    it('updates bump the version; an update against a stale version, or to a taken name, is a conflict and changes nothing', async () => {
      const { store, other } = stores();
      const app = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/' });
      await store.create({ name: 'taken', serviceUrl: 'https://taken.example.org/' });
      const updated = await other.update(app.id, { description: 'v2' }, app.version);
      expect(updated).toMatchObject({ description: 'v2', version: app.version + 1, serviceUrl: 'https://app.example.org/' });
      await expect(store.update(app.id, { description: 'stale' }, app.version)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.update(app.id, { name: 'taken' })).rejects.toBeInstanceOf(ConflictError);
      await expect(store.update(app.id + 1000, { description: 'x' })).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.get(app.id)).toEqual(updated);
    });

    it('of two updates racing on one version, exactly one wins', async () => {
      const { store, other } = stores();
      const app = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/' });
      const results = await Promise.allSettled([store, other].map((s, i) => s.update(app.id, { description: `writer ${i}` }, app.version)));
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((await store.get(app.id))?.version).toBe(app.version + 1);
    });

    it('matches and resolves enabled services only, and follows writes at once', async () => {
      const { store } = stores();
      const app = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/' });
      const off = await store.create({ name: 'off', serviceUrl: 'https://off.example.org/', enabled: false });
      expect((await store.match('https://app.example.org/'))?.id).toBe(app.id);
      expect((await store.resolve(app.id))?.name).toBe('app');
      expect(await store.match('https://off.example.org/')).toBeNull();
      expect(await store.resolve(off.id)).toBeNull();
      await store.update(app.id, { enabled: false });
      await store.update(off.id, { enabled: true });
      expect(await store.match('https://app.example.org/')).toBeNull();
      expect((await store.match('https://off.example.org/'))?.name).toBe('off');
    });

    it('delete removes the record and its matching, once', async () => {
      const { store } = stores();
      const app = await store.create({ name: 'app', serviceUrl: 'https://app.example.org/**' });
      expect(await store.match('https://app.example.org/x')).not.toBeNull();
      expect(await store.delete(app.id)).toBe(true);
      expect(await store.delete(app.id)).toBe(false);
      expect(await store.get(app.id)).toBeNull();
      expect(await store.match('https://app.example.org/x')).toBeNull();
      expect(await store.resolve(app.id)).toBeNull();
    });
  });
}
