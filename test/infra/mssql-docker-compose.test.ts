import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * No Docker engine runs here, so the deployment files are checked
 * statically: the compose file's structure and references, that it commits
 * no secret, that the image is multi-stage and non-root, that README
 * documents every variable and port, and Docker Compose's own validation
 * (`docker-compose config -q`, Debian's v1, installed by
 * scripts/test-servers/install-packages.sh).
 */

const REPO = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test: string[] | string };
  cap_drop?: string[];
  user?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as ComposeFile;
const services = Object.entries(compose.services);

/** ${NAME}, ${NAME:-default}, ${NAME:?error} references in a text. */
function variableReferences(text: string): string[] {
  return [...text.matchAll(/\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]);
}

function dotenvNames(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

describe('docker-compose.yml', () => {
  it('has the portcullis (built from the repo Dockerfile), mssql and openldap services', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['portcullis', 'mssql', 'openldap']));
    const build = compose.services.portcullis.build;
    expect(typeof build === 'object' ? build.context : build).toBe('.');
    expect(existsSync(path.join(REPO, typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile'))).toBe(true);
    expect(compose.services.mssql.image).toBe('mcr.microsoft.com/mssql/server:2022-latest');
    expect(compose.services.openldap.image).toMatch(/openldap/);
  });

  it('references only services and volumes that exist, and declares no unused volume', () => {
    const names = new Set(Object.keys(compose.services));
    for (const [name, service] of services) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(`${name} -> ${dep}: ${names.has(dep)}`).toBe(`${name} -> ${dep}: true`);
    }
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const used = new Set<string>();
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('.') || source.startsWith('/')) {
          expect(`${name}: bind mount ${source} exists: ${existsSync(path.join(REPO, source))}`).toBe(`${name}: bind mount ${source} exists: true`);
        } else {
          used.add(source);
          expect(`${name}: volume ${source} declared: ${declared.has(source)}`).toBe(`${name}: volume ${source} declared: true`);
        }
      }
    }
    expect([...declared].filter((v) => !used.has(v))).toEqual([]);
  });

  it('runs portcullis hardened: read-only root, tmpfs /tmp, data and certificate volumes, no capabilities, health-checked', () => {
    const p = compose.services.portcullis;
    expect(p.read_only).toBe(true);
    expect(p.tmpfs).toContain('/tmp');
    expect(p.cap_drop).toEqual(['ALL']);
    expect(p.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^portcullis-data:\/var\/lib\/portcullis$/), expect.stringMatching(/^portcullis-certs:\/certs:ro$/)]));
    expect(p.user === undefined || !/^(root|0)(:|$)/.test(p.user)).toBe(true);
    for (const name of ['portcullis', 'mssql', 'openldap']) expect(compose.services[name].healthcheck?.test).toBeDefined();
    expect(JSON.stringify(p.healthcheck?.test)).toContain('/health/ready');
  });

  it('commits no secret: every password comes from a ${VAR:?} reference that .env.example leaves empty', () => {
    const example = read('.env.example');
    const exampleNames = dotenvNames(example);
    for (const [name, service] of services) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN|_KEY$/.test(key)) expect(`${name}.${key}=${value}`).toMatch(/=\$\{[A-Z0-9_]+:\?[^}]+\}$/);
      }
    }
    for (const variable of variableReferences(read('docker-compose.yml'))) expect(exampleNames).toContain(variable);
    for (const line of example.split('\n')) {
      if (/^[A-Z0-9_]*(PASSWORD|SECRET|TOKEN)[A-Z0-9_]*=/.test(line)) expect(line).toMatch(/=$/);
    }
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', 'node_modules', '.test-env', 'data']));
  });

  it('passes docker-compose config validation, and refuses to run without the passwords', () => {
    const dockerCompose = '/usr/bin/docker-compose';
    if (!existsSync(dockerCompose)) throw new Error(`${dockerCompose} is missing: run scripts/test-servers/install-packages.sh (apt-get install docker-compose)`);
    // An empty env file: a developer's own .env must not make this pass or fail.
    const emptyEnvFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'compose-')), 'empty.env');
    writeFileSync(emptyEnvFile, '');
    const validate = (env: NodeJS.ProcessEnv) =>
      spawnSync(dockerCompose, ['--project-directory', REPO, '--env-file', emptyEnvFile, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPO, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8' });
    const ok = validate({ MSSQL_SA_PASSWORD: 'Example-Passw0rd', LDAP_ADMIN_PASSWORD: 'example' });
    expect(`${ok.status} ${ok.stderr}`).toBe('0 ');
    const withoutSecrets = validate({});
    expect(withoutSecrets.status).not.toBe(0);
    expect(withoutSecrets.stderr).toContain('MSSQL_SA_PASSWORD');
  });

  it('is documented in README.md: every variable and every published port', () => {
    const readme = read('README.md');
    const variables = new Set([...dotenvNames(read('.env.example')), ...services.flatMap(([, s]) => Object.keys(s.environment ?? {}))]);
    const missing = [...variables].filter((v) => !readme.includes(v));
    expect(missing).toEqual([]);
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':').slice(-2)[0]));
    expect(hostPorts.filter((port) => !readme.includes(port))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('is multi-stage and runs the final stage as an unprivileged user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages[stages.length - 1];
    const user = /^USER\s+(\S+)/m.exec(final)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(final).toMatch(/COPY --from=build/);
    expect(final).not.toMatch(/npm (ci|install)/);
    expect(dockerfile).not.toMatch(/^ADD\s+https?:/m);
    expect(final).toMatch(/ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]/);
  });

  it('copies the run-time files read from the package root (static assets, blocklists)', () => {
    const final = stages[stages.length - 1];
    expect(final).toContain('./src/web/static');
    expect(final).toContain('./src/policy/');
  });
});
