import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliRun, runCli } from '../support/cli-process.js';
import { compileLibrary } from '../support/compiled.js';
import { type DnsServer, startDns } from '../support/dnsmasq.js';
import { DNSMASQ, describeWithBinaries } from '../support/system-binary.js';

// endpoints --dns-srv and --dns as a user runs them: the compiled `trellis` command in its own
// process, asking a real DNS server (dnsmasq) through --dns-server.
let lib: { dir: string; remove(): void };
let dns: DnsServer;

const trellis = (...args: string[]): CliRun => runCli(lib.dir, [...args, '--dns-server', dns.server]);

describeWithBinaries([DNSMASQ], 'trellis endpoints in its own process, against a real DNS server', () => {
  beforeAll(async () => {
    lib = compileLibrary();
    dns = await startDns({
      srv: [{ name: '_http._tcp.api.test', target: 'a.api.test', port: 8080, priority: 10, weight: 3 }],
      hosts: [{ name: 'a.api.test', address: '127.0.0.2', ttl: 30 }],
    });
  }, 30_000);

  afterAll(async () => {
    await dns?.stop();
    lib?.remove();
  });

  it('--dns-srv lists the SRV targets with their weights', async () => {
    const cli = trellis('endpoints', 'api', '--dns-srv', '_http._tcp.api.test', '--json');
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ host: '127.0.0.2', port: 8080, weight: 3 }]);
  });

  it('--dns lists the addresses of a name with the port given', async () => {
    const cli = trellis('endpoints', 'api', '--dns', 'a.api.test:3000');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout).toContain('127.0.0.2:3000');
  });

  it('--dns-srv of a name that does not exist says so (not "unreachable") and exits 1', async () => {
    const cli = trellis('endpoints', 'api', '--dns-srv', '_http._tcp.nothing.test');
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain(
      'dns-srv(_http._tcp.nothing.test): DNS lookup of _http._tcp.nothing.test failed',
    );
    expect(cli.stderr).toContain('Check the name and the DNS servers.');
    expect(cli.stderr).not.toContain('unreachable');
    expect(cli.stderr).not.toContain('check that it is running');
  });
});
