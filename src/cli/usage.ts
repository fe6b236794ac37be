/** A mistake in the command line; the CLI prints it with the usage text and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The help text. */
export const USAGE = `Usage: trellis <command> [options]

Commands:
  endpoints <service>                     list a service's endpoints as a resolver sees them
      --etcd <url,...> [--prefix <p>]     from etcd registrations (prefix /trellis/services/)
      --dns-srv <name>                    from DNS SRV records
      --dns <host>:<port>                 from DNS A/AAAA records
      --dns-server <ip[:port],...>        DNS servers to ask instead of the system's
      --consul <http://host:port>         from Consul's health API (passing instances)
      --file <path>                       from a trellis endpoint file (JSON)
      --static <host:port,...>            from a fixed list
      --watch                             keep printing every update until interrupted
      --json                              print JSON instead of a table
  split show <service>                    show the service's traffic split stored in etcd
  split set <service> <backend>=<weight>...
                                          set it (e.g. users=90 users-v2=10); every client
                                          watching the key applies it within a second
  rules show                              print the whole rules document stored in etcd
  rules set <file>                        validate a rules file (trellis or SMI TrafficSplit,
                                          YAML or JSON) and store it in etcd (as trellis JSON)
  rules check <file>                      validate a rules file without storing it
  stat <admin-url>                        golden signals per service and route (last 10 s)
  top <admin-url>                         every service's endpoints, redrawn each second
  tap <admin-url>                         finished calls as they happen; filters:
      --service <name> --path <prefix>    one service, paths starting with the prefix
      --status <503|5xx|error>            a status, a status class, or errors
      --min-latency <ms>                  calls at least this slow

Other options:
  -h, --help                              print this help
  -v, --version                           print trellis's version

etcd options (split, rules show/set):
  --etcd <url,...>                        etcd client URLs (default $TRELLIS_ETCD or
                                          http://127.0.0.1:2379)
  --key <key>                             the rules key (default /trellis/routes)
`;
