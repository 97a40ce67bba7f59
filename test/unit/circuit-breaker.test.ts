import { CircuitBreaker } from '../../src/authn/ldap/circuit-breaker';
import { Deadline, DirectoryTimeout } from '../../src/authn/ldap/deadline';
import { UnavailableError } from '../../src/shared/errors';

/** A breaker on a fake clock (ms). */
function breakerAt(failures: number, coolDownMs: number) {
  const clock = { now: 0 };
  return { clock, breaker: new CircuitBreaker('corp', { failures, coolDownMs }, () => clock.now) };
}

const timeout = () => Promise.reject(new DirectoryTimeout('directory', 'no answer within 1000 ms'));
const refused = () => Promise.reject(new UnavailableError('directory', 'ECONNREFUSED'));
const answer = () => Promise.resolve('answered');

describe('CircuitBreaker', () => {
  it('opens after `failures` timeouts in a row, then fails at once without calling the directory', async () => {
    const { breaker } = breakerAt(3, 10_000);
    for (let i = 0; i < 3; i++) await expect(breaker.run(timeout)).rejects.toBeInstanceOf(DirectoryTimeout);
    expect(breaker.open).toBe(true);
    const work = jest.fn(answer);
    await expect(breaker.run(work)).rejects.toThrow('directory "corp" is down (it timed out 3 times in a row); next try in 10 s');
    expect(work).not.toHaveBeenCalled();
  });

  it('an answer resets the count; refused connections neither count nor reset', async () => {
    const { breaker } = breakerAt(2, 10_000);
    await expect(breaker.run(timeout)).rejects.toThrow();
    await expect(breaker.run(answer)).resolves.toBe('answered');
    await expect(breaker.run(timeout)).rejects.toThrow();
    await expect(breaker.run(refused)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.open).toBe(false);
    await expect(breaker.run(timeout)).rejects.toThrow();
    expect(breaker.open).toBe(true);
  });

  it('after the cool-down lets exactly one call through as a probe: an answer closes it, a timeout opens it again', async () => {
    const { breaker, clock } = breakerAt(1, 5_000);
    await expect(breaker.run(timeout)).rejects.toThrow();
    clock.now = 4_999;
    await expect(breaker.run(answer)).rejects.toThrow(/is down/);
    clock.now = 5_000;
    let finishProbe: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (finishProbe = resolve)));
    // While the probe runs, everyone else still fails at once.
    await expect(breaker.run(answer)).rejects.toThrow(/a probe is checking/);
    finishProbe('back');
    await expect(probe).resolves.toBe('back');
    expect(breaker.open).toBe(false);

    await expect(breaker.run(timeout)).rejects.toThrow();
    clock.now += 5_000;
    await expect(breaker.run(timeout)).rejects.toThrow(DirectoryTimeout);
    expect(breaker.open).toBe(true);
    await expect(breaker.run(answer)).rejects.toThrow(/is down/);
  });

  it('failures: 0 never opens', async () => {
    const { breaker } = breakerAt(0, 1_000);
    for (let i = 0; i < 20; i++) await expect(breaker.run(timeout)).rejects.toThrow();
    expect(breaker.open).toBe(false);
  });
});

describe('Deadline', () => {
  it('caps each step to what is left of one budget and reports exceeding it as a directory timeout', () => {
    const clock = { now: 1_000 };
    const deadline = new Deadline(3_000, () => clock.now);
    expect(deadline.cap(10_000)).toBe(3_000);
    clock.now += 2_500;
    expect(deadline.cap(10_000)).toBe(500);
    expect(deadline.cap(200)).toBe(200);
    clock.now += 600;
    expect(deadline.remainingMs()).toBe(0);
    const exceeded = deadline.exceeded('corp', 'bind');
    expect(exceeded).toBeInstanceOf(DirectoryTimeout);
    expect(exceeded.message).toBe('directory "corp" did not finish the login within its deadline of 3000 ms (bind)');
  });
});
