import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { EtcdClient } from '../discovery/etcd/etcd-client.js';
import { DEFAULT_RULES_KEY } from '../routing/rules.js';
import { USAGE, UsageError } from './usage.js';

// Commands load what they need when they run (undici, yaml, the resolvers): an operator's
// `trellis split set` should not pay for modules it does not use.

const OPTIONS = {
  file: { type: 'string' },
  static: { type: 'string' },
  prefix: { type: 'string' },
  'dns-srv': { type: 'string' },
  dns: { type: 'string' },
  'dns-server': { type: 'string' },
  consul: { type: 'string' },
  watch: { type: 'boolean' },
  json: { type: 'boolean' },
  etcd: { type: 'string' },
  key: { type: 'string' },
  service: { type: 'string' },
  path: { type: 'string' },
  status: { type: 'string' },
  'min-latency': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

async function etcdClient(flag: string | undefined): Promise<EtcdClient> {
  const { EtcdClient } = await import('../discovery/etcd/etcd-client.js');
  const urls = (flag ?? process.env.TRELLIS_ETCD ?? 'http://127.0.0.1:2379').split(',').map((u) => u.trim());
  return new EtcdClient({ endpoints: urls });
}

async function withEtcd<T>(flag: string | undefined, run: (client: EtcdClient) => Promise<T>): Promise<T> {
  const client = await etcdClient(flag);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

/** Where a command writes. */
export interface CliOutput {
  /** Normal output, one call per block of lines. */
  out(text: string): void;
  /** Error messages. */
  err(text: string): void;
}

const STDIO: CliOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(text),
};

/**
 * Runs one `trellis` command line and resolves with its exit code (0 done, 1 failed, 2 bad
 * usage). `stop` ends a `--watch`.
 */
export async function runCli(
  argv: readonly string[],
  io: CliOutput = STDIO,
  stop: Promise<void> = new Promise((resolve) => process.once('SIGINT', () => resolve())),
): Promise<number> {
  try {
    return await run([...argv], io, stop);
  } catch (err) {
    const usage =
      err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    io.err(`trellis: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  }
}

/** A rules file's text; a file that cannot be read is said so, with its path, not as a bare ENOENT. */
async function readRulesFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`cannot read the rules file '${path}' (${code}): check the path and its permissions.`);
  }
}

async function run(argv: string[], io: CliOutput, stop: Promise<void>): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  const print = (text: string) => io.out(text);
  const key = values.key ?? DEFAULT_RULES_KEY;
  if (values.version) {
    // package.json sits two folders up from both src/cli/ and dist/cli/.
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    print(pkg.version);
    return 0;
  }
  if (values.help || command === undefined || command === 'help') {
    print(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const need = (count: number, what: string): string[] => {
    if (rest.length < count) throw new UsageError(`${command} needs ${what}`);
    return rest;
  };
  if (command === 'endpoints') {
    const [service] = need(1, 'a service name: trellis endpoints <service> --file <path>');
    const { endpointsCommand } = await import('./endpoints-command.js');
    await endpointsCommand(service!, values, print, stop);
    return 0;
  }
  if (command === 'top' || command === 'tap' || command === 'stat') {
    const [url] = need(1, `an admin URL: trellis ${command} http://127.0.0.1:9990/`);
    const admin = await import('./admin-commands.js');
    if (command === 'stat') await admin.statCommand(url!, print);
    else if (command === 'top')
      await admin.topCommand(url!, print, stop, io === STDIO && process.stdout.isTTY);
    else await admin.tapCommand(url!, values, print, stop);
    return 0;
  }
  switch (`${command} ${rest[0] ?? ''}`) {
    case 'split show': {
      const [, service] = need(2, 'a service name: trellis split show <service>');
      const { splitShow } = await import('./split-command.js');
      print(await withEtcd(values.etcd, (client) => splitShow(client, key, service!)));
      return 0;
    }
    case 'split set': {
      const [, service, ...weights] = need(3, 'a service and a split: trellis split set <service> a=90 b=10');
      const { parseSplitArgs, splitSet } = await import('./split-command.js');
      const split = parseSplitArgs(weights);
      print(await withEtcd(values.etcd, (client) => splitSet(client, key, service!, split)));
      return 0;
    }
    case 'rules show': {
      const [{ readRules }, { stringify }] = await Promise.all([
        import('./etcd-rules-store.js'),
        import('yaml'),
      ]);
      const { table } = await withEtcd(values.etcd, (client) => readRules(client, key));
      print(values.json ? JSON.stringify(table, null, 2) : stringify(table).trimEnd());
      return 0;
    }
    case 'rules check':
    case 'rules set': {
      const [, path] = need(2, `a file: trellis rules ${rest[0]} <file>`);
      const { parseRules } = await import('../routing/parse-rules.js');
      const { readRules, writeRules } = await import('./etcd-rules-store.js');
      const table = parseRules(await readRulesFile(path!), path);
      if (rest[0] === 'set') {
        await withEtcd(values.etcd, async (client) => {
          const { modRevision } = await readRules(client, key).catch(() => ({ modRevision: -1 }));
          // An invalid document already stored is replaced, but never a concurrent change.
          const current = modRevision >= 0 ? modRevision : ((await client.get(key))?.modRevision ?? 0);
          await writeRules(client, key, table, current);
        });
      }
      print(
        `${path}: valid (${Object.keys(table.services).length} service(s))${rest[0] === 'set' ? `, stored in ${key}` : ''}`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${[command, rest[0]].filter(Boolean).join(' ')}'`);
  }
}
