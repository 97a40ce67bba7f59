import { SHARE_ENV, Worker } from 'node:worker_threads';
import { UnavailableError } from '../../shared/errors';

/**
 * SPNEGO acceptance with the npm `kerberos` package, run in a dedicated
 * worker thread:
 *  - libkrb5 reads KRB5_CONFIG / KRB5_KTNAME from the C environment; the
 *    worker shares the process environment and sets them itself, so they
 *    are real even where `process.env` is a virtual copy (jest, vm);
 *  - the native addon then lives in one plain Node realm for the worker's
 *    life (loading it into several short-lived module realms, as jest does
 *    per test file, left its async callbacks answering the wrong realm);
 *  - GSS calls never block or share state with the request thread.
 */

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
Object.assign(process.env, workerData.env);
let kerberos;
try { kerberos = require(workerData.modulePath); } catch (error) { kerberos = { loadError: String(error && error.message || error) }; }
parentPort.on('message', async ({ id, service, token }) => {
  if (kerberos.loadError) return parentPort.postMessage({ id, error: 'the kerberos package did not load: ' + kerberos.loadError, unavailable: true });
  try {
    const server = await kerberos.initializeServer(service);
    const response = await server.step(token);
    parentPort.postMessage({ id, complete: server.contextComplete, username: server.username || null, response: response || null });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Reply {
  id: number;
  error?: string;
  unavailable?: boolean;
  complete?: boolean;
  username?: string | null;
  response?: string | null;
}

export interface AcceptResult {
  complete: boolean;
  username: string | null;
  response: string | null;
}

export class KerberosAcceptor {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly environment: { KRB5_CONFIG: string; KRB5_KTNAME: string },
    private readonly timeoutMs: number,
  ) {}

  private start(): Worker {
    let modulePath: string;
    try {
      modulePath = require.resolve('kerberos');
    } catch {
      throw new UnavailableError('directory', 'integrated Windows sign-in needs the optional "kerberos" package, which is not installed');
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, env: SHARE_ENV, workerData: { env: this.environment, modulePath } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.pending.values()) waiter.reject(new UnavailableError('directory', `Kerberos worker failed: ${error.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with ${code}`)));
    return worker;
  }

  /** Accepts one SPNEGO token for `service` (GSS host-based name, e.g. HTTP@sso.example.com). Throws with the GSS message if refused. */
  async accept(service: string, token: string): Promise<AcceptResult> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new UnavailableError('directory', `Kerberos acceptance took longer than ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      (this.worker as Worker).postMessage({ id, service, token });
    });
    if (reply.error !== undefined) {
      if (reply.unavailable) throw new UnavailableError('directory', reply.error);
      throw new Error(reply.error);
    }
    return { complete: reply.complete === true, username: reply.username ?? null, response: reply.response ?? null };
  }

  /** Loads the package in the worker (for readiness checks); throws UnavailableError if it cannot. */
  async probe(): Promise<void> {
    try {
      await this.accept('HTTP@probe.invalid', 'YA==');
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      // A GSS refusal of the dummy token means the library loaded and answered.
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
