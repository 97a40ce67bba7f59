import type { Services } from '../services';
import type { RegisteredService, ServiceInput } from '../cas/service-registry';
import { InputError, NotFoundError } from '../shared/errors';
import { plainHttpFindings } from '../cas/plain-http';

export const SERVICE_USAGE = `  service add NAME --url URL [--description TEXT] [--order N] [--attributes a,b,...]
              [--proxy-callback PATTERN] [--accept-proxy-tickets] [--logout-url URL] [--no-single-logout] [--disabled]
              [--allow-http]  (plain http:// URLs are refused without it)
  service list
  service remove NAME
    URL is an exact URL, or a pattern with * (within one path segment) and ** (anything),
    allowed only after the host: https://app.example.org/** (see docs: service patterns)`;

type WithServices = <T>(work: (services: Services) => Promise<T>) => Promise<T>;

const VALUE_FLAGS = ['url', 'description', 'order', 'attributes', 'proxy-callback', 'logout-url'];
const SWITCHES = ['accept-proxy-tickets', 'no-single-logout', 'disabled', 'allow-http'];

function parse(args: string[]): { positional: string[]; values: Map<string, string>; switches: Set<string> } {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (VALUE_FLAGS.includes(name)) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new InputError(`--${name} needs a value`);
      values.set(name, value);
    } else if (SWITCHES.includes(name) && eq < 0) switches.add(name);
    else throw new InputError(`unknown option --${name}\n${SERVICE_USAGE}`);
  }
  return { positional, values, switches };
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
  ];
  return parts.join('\t');
}

/** `portcullis service add|list|remove`: the registered CAS applications. */
export async function serviceCommand(
  args: string[],
  withServices: WithServices,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  const [sub, ...rest] = args;
  const { positional, values, switches } = parse(rest);
  if (sub === 'list') {
    await withServices(async (s) => {
      const services = await s.serviceRegistry.list();
      if (services.length === 0) print('no services registered; add one with: portcullis service add NAME --url URL');
      for (const service of services) print(describe(service));
    });
    return;
  }
  const name = positional[0];
  if (!name) throw new InputError(`service ${sub ?? ''}: NAME is required\n${SERVICE_USAGE}`);
  if (sub === 'add') {
    const url = values.get('url');
    if (!url) throw new InputError('service add: --url is required');
    const order = values.get('order');
    if (order !== undefined && !/^-?\d+$/.test(order)) throw new InputError('--order must be an integer');
    const input: ServiceInput = {
      name,
      serviceUrl: url,
      description: values.get('description') ?? null,
      evaluationOrder: order === undefined ? 0 : Number(order),
      enabled: !switches.has('disabled'),
      proxyCallback: values.get('proxy-callback') ?? null,
      acceptsProxyTickets: switches.has('accept-proxy-tickets'),
      releasedAttributes: (values.get('attributes') ?? '').split(',').map((a) => a.trim()).filter((a) => a.length > 0),
      logoutType: switches.has('no-single-logout') ? 'none' : 'back_channel',
      logoutUrl: values.get('logout-url') ?? null,
    };
    const plainHttp = plainHttpFindings(input).map((f) => f.message);
    if (plainHttp.length > 0 && !switches.has('allow-http')) throw new InputError(`service add: ${plainHttp.join('; ')}. Use https://, or pass --allow-http to register it anyway.`);
    await withServices(async (s) => {
      const created = await s.serviceRegistry.create(input);
      print(`registered ${describe(created)}`);
      for (const warning of plainHttp) warn(`warning: ${warning}`);
    });
  } else if (sub === 'remove') {
    await withServices(async (s) => {
      const service = await s.serviceRegistry.findByName(name);
      if (!service) throw new NotFoundError(`no service named "${name}"`);
      await s.serviceRegistry.delete(service.id);
      print(`removed ${service.name}`);
    });
  } else throw new InputError(`unknown service command "${sub}"\n${SERVICE_USAGE}`);
}
