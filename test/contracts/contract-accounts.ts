/** The accounts the contracts' rows belong to (factors, keys, acceptances): a factory's seed step must add them. */
export const CONTRACT_ACCOUNTS = [
  { id: 7, username: 'alice' },
  { id: 8, username: 'bob' },
];
export const ALICE = 7;
export const BOB = 8;

/** 20 calls at once, spread over these instances; how many of them won. */
export async function raceWins<Store>(instances: Store[], call: (store: Store) => Promise<boolean>): Promise<number> {
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(instances[i % instances.length])));
  return results.filter(Boolean).length;
}
