import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { argon2Schema, passwordPolicySchema } from '../src/config/schema';
import { PasswordPolicy } from '../src/policy/password-policy';
import { warmUpStrengthEstimator } from '../src/policy/strength';
import { type BenchOptions, type Figure, measure, round } from './support';

/** Operations per second of a synchronous function, over `seconds`. */
export function syncRate(seconds: number, operation: (i: number) => void): number {
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) operation(count++);
  }
  return count / ((performance.now() - started) / 1000);
}

const WORDS = ['orchard', 'velvet', 'compass', 'lantern', 'meadow', 'harbor', 'quartz', 'summer', 'tokyo', 'sakura', 'dragon', 'monkey'];

/** Passwords as people choose them: words, digits, a separator; 10 to 24 characters. */
function typicalPasswords(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const w = (n: number) => WORDS[(i * 7 + n * 5) % WORDS.length];
    const variants = [`${w(0)}${i % 100}!`, `${w(0)[0].toUpperCase()}${w(0).slice(1)}-${w(1)}-${i % 1000}`, `${w(2)}.${w(3)}.${w(1)}${i % 10}`, `P@ss${w(0)}${1990 + (i % 35)}`];
    return variants[i % variants.length];
  });
}

/**
 * Password-policy checks per second (every rule, with the zxcvbn estimate at
 * the default minimum score): typical passwords and 1 KiB ones (of which the
 * estimator sees 100 characters). Baseline in the same run: Argon2id
 * verifications per second at the default cost, what every sign-in spends anyway.
 */
export async function benchPasswordPolicy(options: BenchOptions): Promise<Figure[]> {
  const policy = new PasswordPolicy(passwordPolicySchema.parse({}));
  const context = { username: 'alice', displayName: 'Alice Example', email: 'alice@example.test' };
  warmUpStrengthEstimator();
  const typical = typicalPasswords(500);
  const long = Array.from({ length: 50 }, () => randomBytes(768).toString('base64'));
  const seconds = options.seconds / 4;
  options.log(`policy checks: ${typical.length} typical passwords and ${long.length} of 1 KiB, ${seconds}s each; argon2id verifications as the baseline`);
  const typicalRate = syncRate(seconds, (i) => void policy.check(typical[i % typical.length], context));
  const longRate = syncRate(seconds, (i) => void policy.check(long[i % long.length], context));
  const { memoryCost, timeCost, parallelism } = argon2Schema.parse({});
  const hash = await argon2.hash('Bench-Marking-Pass-7', { type: argon2.argon2id, memoryCost, timeCost, parallelism });
  // One at a time, like the main thread's share of one sign-in.
  const raw = await measure(seconds, 1, async () => void (await argon2.verify(hash, 'Bench-Marking-Pass-7')));
  return [
    { name: 'password_policy_checks_per_second_typical', value: round(typicalRate), unit: 'checks/s' },
    { name: 'password_policy_checks_per_second_1kib', value: round(longRate), unit: 'checks/s' },
    { name: 'argon2id_verifications_per_second_serial', value: round(raw.perSecond), unit: 'verifications/s' },
    { name: 'password_policy_check_to_argon2_time_ratio', value: round(raw.perSecond / typicalRate, 3), unit: 'policy check time / argon2 verify time (typical)' },
  ];
}
