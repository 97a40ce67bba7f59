import { StatementBatcher, chunks } from '../../src/storage/statement-batcher';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher (group commit)', () => {
  it('carries the calls of one event-loop turn in one run, each caller getting its own result', async () => {
    const runs: number[][] = [];
    const batcher = new StatementBatcher<number, string>(async (items) => {
      runs.push(items);
      return items.map((n) => `result ${n}`);
    });
    const first = await Promise.all([batcher.run(1), batcher.run(2), batcher.run(3)]);
    expect(first).toEqual(['result 1', 'result 2', 'result 3']);
    const later = batcher.run(4);
    await nextTurn();
    const last = batcher.run(5);
    expect(await Promise.all([later, last])).toEqual(['result 4', 'result 5']);
    expect(runs).toEqual([[1, 2, 3], [4], [5]]);
  });

  it('fails every call of a failed run, and only those', async () => {
    let fail = true;
    const batcher = new StatementBatcher<number, number>(async (items) => {
      if (fail) throw new Error('database unavailable');
      return items;
    });
    const failed = [batcher.run(1), batcher.run(2)].map((p) => p.then(() => 'stored', (e: Error) => e.message));
    expect(await Promise.all(failed)).toEqual(['database unavailable', 'database unavailable']);
    fail = false;
    expect(await batcher.run(3)).toBe(3);
  });

  it('splits long lists into runs of a bounded size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 2)).toEqual([]);
  });
});
