import type { RegisteredService, ServiceChanges } from '../cas/service-registry';
import { InputError, NotFoundError } from '../shared/errors';
import { plainHttpFindings } from '../cas/plain-http';
import type { Services } from '../services';
import { type CliOption, type Command, type CommandArgs, UsageError } from './command-table';
import type { CliContext } from './context';

const PATTERN_HELP = [
  'URL is an exact URL, or a pattern with * (within one path segment) and ** (anything),',
  'allowed only after the host: https://app.example.org/** (see the README: Registered services)',
].join('\n');

/** Options that set a field, shared by `service add` and `service update`. */
const FIELD_OPTIONS: Record<string, CliOption> = {
  url: { type: 'string', value: 'URL', help: 'service URL or pattern' },
  description: { type: 'string', value: 'TEXT', help: 'free text' },
  order: { type: 'string', value: 'N', help: 'evaluation order of patterns (lower first; default 0)' },
  attributes: { type: 'string', value: 'a,b,...', help: 'released attribute names' },
  'proxy-callback': { type: 'string', value: 'PATTERN', help: 'https pattern a pgtUrl must match (empty: no proxying)' },
  'logout-url': { type: 'string', value: 'URL', help: 'where single-logout goes (empty: the service URL)' },
  mfa: { type: 'string', value: 'required|optional', help: 'whether tickets for it need a second factor (default optional)' },
  'accept-proxy-tickets': { type: 'boolean', help: 'proxy tickets may be issued for this service' },
  'no-single-logout': { type: 'boolean', help: 'no single-logout notification' },
  'allow-http': { type: 'boolean', help: 'accept a plain http:// service or logout URL (tickets then cross the network in clear)' },
};

/** Plain http:// URLs are refused unless --allow-http; allowed ones are warned about on stderr. */
function checkPlainHttp(command: string, input: { serviceUrl?: string | null; logoutUrl?: string | null }, args: CommandArgs, ctx: CliContext): void {
  const findings = plainHttpFindings(input).map((f) => f.message);
  if (findings.length === 0) return;
  if (!args.flag('allow-http')) throw new InputError(`${command}: ${findings.join('; ')}. Use https://, or pass --allow-http to register it anyway.`);
  for (const warning of findings) ctx.io.err(`warning: ${warning}\n`);
}

/** The fields the given options set; absent options change nothing. */
function changesFrom({ value, flag }: CommandArgs): ServiceChanges {
  const changes: ServiceChanges = {};
  const text = value;
  const url = text('url');
  if (url !== undefined) changes.serviceUrl = url;
  const description = text('description');
  if (description !== undefined) changes.description = description || null;
  const order = text('order');
  if (order !== undefined) {
    if (!/^-?\d+$/.test(order)) throw new UsageError('--order must be an integer');
    changes.evaluationOrder = Number(order);
  }
  const attributes = text('attributes');
  if (attributes !== undefined) changes.releasedAttributes = attributes.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
  const proxyCallback = text('proxy-callback');
  if (proxyCallback !== undefined) changes.proxyCallback = proxyCallback || null;
  const logoutUrl = text('logout-url');
  if (logoutUrl !== undefined) changes.logoutUrl = logoutUrl || null;
  const mfa = text('mfa');
  if (mfa !== undefined) {
    if (mfa !== 'required' && mfa !== 'optional') throw new UsageError('--mfa must be required or optional');
    changes.mfa = mfa;
  }
  if (flag('accept-proxy-tickets')) changes.acceptsProxyTickets = true;
  if (flag('no-single-logout')) changes.logoutType = 'none';
  return changes;
}

function describe(s: RegisteredService): string {
  const parts = [
    s.name,
    s.serviceUrl,
    s.enabled ? 'enabled' : 'disabled',
    `order=${s.evaluationOrder}`,
    `attributes=${s.releasedAttributes.join(',') || '-'}`,
    `proxy-callback=${s.proxyCallback ?? '-'}`,
    `accepts-proxy-tickets=${s.acceptsProxyTickets}`,
    `single-logout=${s.logoutType === 'none' ? 'off' : (s.logoutUrl ?? 'service URL')}`,
    `mfa=${s.mfa}`,
  ];
  return parts.join('\t');
}

async function requireService(s: Services, name: string): Promise<RegisteredService> {
  const service = await s.serviceRegistry.findByName(name);
  if (!service) throw new NotFoundError(`no service named "${name}"`);
  return service;
}

/** Turning a switch on or off, for `service update`. */
function switches(args: CommandArgs): ServiceChanges {
  const pairs = [
    ['enable', 'disable', 'enabled'],
    ['accept-proxy-tickets', 'refuse-proxy-tickets', 'acceptsProxyTickets'],
  ] as const;
  const changes: ServiceChanges = {};
  for (const [on, off, field] of pairs) {
    if (args.flag(on) && args.flag(off)) throw new UsageError(`--${on} and --${off} contradict each other`);
    if (args.flag(on) || args.flag(off)) changes[field] = args.flag(on);
  }
  if (args.flag('single-logout') && args.flag('no-single-logout')) throw new UsageError('--single-logout and --no-single-logout contradict each other');
  if (args.flag('single-logout')) changes.logoutType = 'back_channel';
  return changes;
}

/** `portcullis service …`: the registered CAS applications. */
export const SERVICE_COMMANDS: Command<CliContext>[] = [
  {
    name: 'service add',
    args: 'NAME',
    summary: 'register a CAS service (an application allowed to receive tickets)',
    details: PATTERN_HELP,
    options: { ...FIELD_OPTIONS, disabled: { type: 'boolean', help: 'register it disabled' } },
    async run(args, ctx) {
      const changes = changesFrom(args);
      if (changes.serviceUrl === undefined) throw new UsageError('service add: --url is required');
      const input = { evaluationOrder: 0, releasedAttributes: [], logoutType: 'back_channel' as const, ...changes, name: args.positionals[0], serviceUrl: changes.serviceUrl, enabled: !args.flag('disabled') };
      checkPlainHttp('service add', input, args, ctx);
      await ctx.withServices(async (s) => ctx.io.out(`registered ${describe(await s.serviceRegistry.create(input))}\n`));
    },
  },
  {
    name: 'service update',
    args: 'NAME',
    summary: 'change a registered service (only the options given)',
    details: PATTERN_HELP,
    options: {
      ...FIELD_OPTIONS,
      name: { type: 'string', value: 'NEW-NAME', help: 'rename it' },
      enable: { type: 'boolean', help: 'enable it' },
      disable: { type: 'boolean', help: 'disable it (it gets no more tickets)' },
      'refuse-proxy-tickets': { type: 'boolean', help: 'no proxy tickets for this service' },
      'single-logout': { type: 'boolean', help: 'notify it on single logout' },
    },
    async run(args, ctx) {
      const changes = { ...changesFrom(args), ...switches(args) };
      const rename = args.value('name');
      if (rename !== undefined) changes.name = rename;
      if (Object.keys(changes).length === 0) throw new UsageError('service update: nothing to change (give at least one option)');
      checkPlainHttp('service update', changes, args, ctx);
      await ctx.withServices(async (s) => {
        const current = await requireService(s, args.positionals[0]);
        ctx.io.out(`updated ${describe(await s.serviceRegistry.update(current.id, changes, current.version))}\n`);
      });
    },
  },
  {
    name: 'service list',
    summary: 'list registered services in evaluation order (tab-separated)',
    async run(_args, ctx) {
      await ctx.withServices(async (s) => {
        const services = await s.serviceRegistry.list();
        if (services.length === 0) ctx.io.out('no services registered; add one with: portcullis service add NAME --url URL\n');
        for (const service of services) ctx.io.out(`${describe(service)}\n`);
      });
    },
  },
  {
    name: 'service show',
    args: 'NAME',
    summary: 'one registered service, field by field',
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        const service = await requireService(s, name);
        for (const [key, value] of Object.entries(service)) {
          const shown = Array.isArray(value) ? value.join(',') : key.endsWith('At') ? new Date(value as number).toISOString() : value;
          ctx.io.out(`${key}: ${shown === null || shown === '' ? '-' : shown}\n`);
        }
      });
    },
  },
  {
    name: 'service remove',
    args: 'NAME',
    summary: 'remove a registered service (it gets no more tickets)',
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        const service = await requireService(s, name);
        await s.serviceRegistry.delete(service.id);
        ctx.io.out(`removed ${service.name}\n`);
      });
    },
  },
];
