import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SecretBox, parseKey, readOrCreateKeyFile } from '../../src/mfa/secret-box';
import { totpCode } from '../../src/mfa/totp';
import { runInProcess, testCliContext } from '../support/cli';
import { type TestContext, createTestContext } from '../support/test-app';

/** `portcullis user mfa list|reset`, `portcullis mfa rotate-key` and the MFA policy in `config check`. */

const WHO = { clientIp: null, userAgent: null, channel: 'test' };

describe('second factors on the command line', () => {
  let ctx: TestContext;
  let lines: string[];
  const io = { out: (text: string) => lines.push(...text.trimEnd().split('\n')), err: () => undefined, interactive: false };
  const run = (args: string[]) => runInProcess(args, testCliContext({}, io, ctx.services));

  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { mfa: { require: 'never' } } });
    lines = [];
    await ctx.addUser('alice', 'Correct-Horse-7');
  });
  afterEach(() => ctx.close());

  /** Enrols a TOTP factor for alice; returns its secret. */
  async function enrol(): Promise<string> {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const { secret } = await ctx.services.mfa.beginTotp(alice);
    await ctx.services.mfa.confirmTotp(alice, secret, totpCode(secret, ctx.clock.now()), 'phone', WHO);
    return secret;
  }

  it('user mfa list shows factors without secrets; user mfa reset removes them all, audited as the CLI', async () => {
    await run(['user', 'mfa', 'list', 'alice']);
    expect(lines).toEqual(['alice has no second factor', 'recovery-codes-left=0']);
    const secret = await enrol();
    lines = [];
    await run(['user', 'mfa', 'list', 'ALICE']);
    expect(lines[0]).toMatch(/^\d+\ttotp\tphone\tcreated=\S+Z\tlast-used=\S+Z$/);
    expect(lines[1]).toBe('recovery-codes-left=10');
    expect(lines.join('\n')).not.toContain(secret);
    await expect(run(['user', 'mfa', 'list', 'nobody'])).rejects.toThrow(/nobody/);
    await expect(run(['user', 'mfa', 'lst', 'alice'])).rejects.toThrow('unknown user mfa command "lst" (did you mean list?)');
    lines = [];
    await run(['user', 'mfa', 'reset', 'alice']);
    expect(lines).toEqual(['reset alice: 11 factor(s) and recovery code(s) removed']);
    expect((await ctx.services.audit.query({ username: 'alice', event: 'mfa_reset' })).events[0].actor).toBe('cli');
    expect(await ctx.services.factors.list((await ctx.services.accountService.requireByUsername('alice')).id)).toEqual([]);
  });

  it('mfa rotate-key re-encrypts every secret with a new key file (created 0600) in one go', async () => {
    const secret = await enrol();
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mfa-key-')), 'new.key');
    await run(['mfa', 'rotate-key', file]);
    expect(lines[0]).toBe(`re-encrypted 1 secret(s) with the key in ${file}`);
    expect(lines[1]).toContain('mfa.secretKeyFile');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const next = new SecretBox(parseKey(readFileSync(file, 'utf8'), file));
    const [sealed] = await ctx.services.factors.sealedSecrets();
    expect(sealed.secret.split('.')[1]).toBe(next.keyId);
    expect(next.open(sealed.secret, alice.id)).toBe(secret);
    expect(() => ctx.services.secretBox.open(sealed.secret, alice.id)).toThrow();

    // A bad key file is refused and leaves the secrets as they were.
    const bad = path.join(path.dirname(file), 'bad.key');
    writeFileSync(bad, 'not a key\n', { mode: 0o600 });
    await expect(run(['mfa', 'rotate-key', bad])).rejects.toThrow(/32 bytes/);
    expect((await ctx.services.factors.sealedSecrets())[0].secret).toBe(sealed.secret);
  });

  it('an instance still on the old key opens secrets re-sealed with a key listed in mfa.extraKeyFiles', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mfa-key-')), 'next.key');
    const nextKey = readOrCreateKeyFile(file);
    await ctx.close();
    ctx = await createTestContext({ overrides: { mfa: { require: 'never', extraKeyFiles: [file] } } });
    await ctx.addUser('alice', 'Correct-Horse-7');
    const secret = await enrol();
    const alice = await ctx.services.accountService.requireByUsername('alice');
    // Another instance rotates; this one keeps sealing with the old key and reads both.
    await run(['mfa', 'rotate-key', file]);
    const [sealed] = await ctx.services.factors.sealedSecrets();
    expect(sealed.secret.split('.')[1]).toBe(new SecretBox(nextKey).keyId);
    ctx.clock.advance(30_000);
    expect(await ctx.services.mfa.verify(alice, totpCode(secret, ctx.clock.now()), WHO)).toEqual({ status: 'verified', factor: 'totp' });
    expect(ctx.services.secretBox.seal('x', alice.id).split('.')[1]).not.toBe(new SecretBox(nextKey).keyId);
  });

  it('config check prints the MFA policy and where the key comes from', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mfa-config-'));
    const out: string[] = [];
    const extra = path.join(dir, 'previous.key');
    const check = testCliContext({ configDir: dir, dataDir: dir, env: {}, overrides: { mfa: { require: 'all', extraKeyFiles: [extra] } } }, { out: (t) => out.push(t), err: () => undefined, interactive: false });
    await runInProcess(['config', 'check'], check);
    const printed = JSON.parse(out.slice(1).join(''));
    expect(printed.mfa).toMatchObject({ require: 'all', key: path.join(dir, 'mfa.key'), extraKeyFiles: [extra] });
  });
});
