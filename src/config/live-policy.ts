import { unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger';
import { ConfigError } from '../shared/errors';
import { JSON_CONFIG_FILE, type LoadedConfig, type LoadOptions, PRIVATE_CONFIG_FILE, loadConfig } from './load';
import type { LivePolicy } from './schema';

function policyOf(loaded: LoadedConfig): LivePolicy {
  const { lockout, password, administrators, accounts } = loaded.config;
  return { lockout, password, administrators, accounts };
}

const POLICY_SECTIONS = ['lockout.', 'password.', 'administrators.', 'accounts.'];

/**
 * The policy settings operators change while the service runs. A reload
 * (file change or SIGHUP) re-reads every source; a file that fails to parse
 * or validate leaves the last good policy in force and logs why.
 */
export class LivePolicySource {
  private policy: LivePolicy;
  private policySources: Record<string, string>;
  /** Set by a refused reload, so the next good one is logged even when the values did not change. */
  private lastReloadFailed = false;
  private readonly listeners = new Set<(policy: LivePolicy) => void>();

  constructor(
    private readonly options: LoadOptions,
    initial: LoadedConfig,
    private readonly logger: Logger,
  ) {
    this.policy = policyOf(initial);
    this.policySources = pickPolicySources(initial.sources);
  }

  get(): LivePolicy {
    return this.policy;
  }

  /** Which file (or env variable) set each policy value; unset values are defaults. */
  sources(): Record<string, string> {
    return this.policySources;
  }

  onChange(listener: (policy: LivePolicy) => void): void {
    this.listeners.add(listener);
  }

  /** Returns true when the new files were accepted. */
  reload(): boolean {
    try {
      const loaded = loadConfig(this.options);
      const next = policyOf(loaded);
      const changed = JSON.stringify(next) !== JSON.stringify(this.policy);
      this.policy = next;
      this.policySources = pickPolicySources(loaded.sources);
      // After a refused reload the last log line is an error: say that the files are good again.
      if (changed || this.lastReloadFailed) {
        // `password` would be redacted by the logger: the rules go under another name.
        const { password: passwordRules, ...rest } = next;
        this.logger.info({ event: 'policy_reloaded', ...rest, passwordRules }, 'policy reloaded');
      }
      this.lastReloadFailed = false;
      if (changed) for (const listener of this.listeners) listener(next);
      return true;
    } catch (error) {
      this.lastReloadFailed = true;
      const problems = error instanceof ConfigError ? error.problems : [String(error)];
      this.logger.error({ event: 'policy_reload_failed', problems }, `config reload failed, keeping the last good policy: ${problems.join('; ')}`);
      return false;
    }
  }

  /** Watches the config files (polling survives editors that replace files) and SIGHUP. Returns a stop function. */
  watch(configDir: string, intervalMs = 500): () => void {
    const files = [PRIVATE_CONFIG_FILE, JSON_CONFIG_FILE].map((f) => path.join(configDir, f));
    const onFileChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
      if (current.mtimeMs !== previous.mtimeMs) this.reload();
    };
    for (const file of files) watchFile(file, { interval: intervalMs, persistent: false }, onFileChange);
    const onHangup = () => this.reload();
    process.on('SIGHUP', onHangup);
    return () => {
      for (const file of files) unwatchFile(file, onFileChange);
      process.off('SIGHUP', onHangup);
    };
  }
}

function pickPolicySources(sources: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(sources).filter(([key]) => POLICY_SECTIONS.some((p) => key.startsWith(p))));
}
