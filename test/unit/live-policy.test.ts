import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LivePolicySource } from '../../src/config/live-policy';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/shared/logger';

const privateConfig = (max: string) => `<configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="${max}"/></appSettings></configuration>`;

describe('policy reload feedback', () => {
  it('logs "policy reloaded" with the values when a good file follows a refused one, even if nothing changed', () => {
    const configDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-live-policy-'));
    writeFileSync(path.join(configDir, 'private.config'), privateConfig('5'));
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const options = { configDir, env: {} };
    const policy = new LivePolicySource(options, loadConfig(options), logger);
    const events = () => lines.map((l) => JSON.parse(l) as { event: string; msg: string; lockout?: unknown; passwordRules?: unknown });

    expect(policy.reload()).toBe(true);
    expect(lines).toEqual([]); // nothing changed, nothing failed: nothing to say

    writeFileSync(path.join(configDir, 'private.config'), privateConfig('many'));
    expect(policy.reload()).toBe(false);
    expect(events().at(-1)?.event).toBe('policy_reload_failed');

    writeFileSync(path.join(configDir, 'private.config'), privateConfig('5'));
    expect(policy.reload()).toBe(true);
    const last = events().at(-1)!;
    expect(last).toMatchObject({ event: 'policy_reloaded', msg: 'policy reloaded', lockout: { maxAllowedLoginFailureCount: 5 } });
    expect(last.passwordRules).toEqual(policy.get().password);

    expect(policy.reload()).toBe(true);
    expect(events()).toHaveLength(2);
  });
});
