import { SHARE_ENV, Worker } from 'node:worker_threads';
import { ConfigError } from '../../shared/errors';

/**
 * libkrb5 (used by the `kerberos` package for SPNEGO) reads KRB5_CONFIG and
 * KRB5_KTNAME from the C environment each time it creates a context. They
 * are process-wide, so one Kerberos configuration per process.
 *
 * The variables are set through a worker thread that shares the process
 * environment: its `process.env` writes go straight to setenv(). A plain
 * `process.env.X = ...` is not always enough, because `process.env` can be a
 * virtual copy (jest and other vm sandboxes give each module realm its own).
 */

let applied: { key: string; done: Promise<void> } | null = null;

export function applyKerberosEnvironment(variables: { KRB5_CONFIG: string; KRB5_KTNAME: string }): Promise<void> {
  const key = JSON.stringify(variables);
  if (applied && applied.key !== key) {
    return Promise.reject(new ConfigError([`config: a second, different Kerberos configuration in one process (${key}); only one windows backend per process is supported`]));
  }
  if (!applied) {
    Object.assign(process.env, variables);
    applied = { key, done: setRealEnvironment(variables) };
    applied.done.catch(() => {
      applied = null;
    });
  }
  return applied.done;
}

function setRealEnvironment(variables: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker('Object.assign(process.env, require("node:worker_threads").workerData)', { eval: true, env: SHARE_ENV, workerData: variables });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`environment worker exited with ${code}`))));
  });
}
