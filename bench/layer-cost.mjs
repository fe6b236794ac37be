// Client CPU each layer of the stack adds per request, without the network: the `transport`
// layer is replaced by a stub that answers at once with a prebuilt response, so what is left is
// the stack itself (layers, balancer, context). Complements scenarios/full-stack.mjs, whose
// end-to-end figures swing with the load of a shared machine; CPU time spent in our own code
// swings much less. Each variant runs in its own process, in rotated order, several times.
//
//   npm run build && node bench/layer-cost.mjs [--reps=5] [--calls=300000] [--only=a,b]
//
// Prints one markdown table: median ns per request over the runs and the difference to `bare`
// (balance + stub transport only) and to `default`.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VARIANTS = {
  bare: 'balance + stub transport only',
  default: 'default stack',
  'default-timeout': 'default stack, per-request timeout set',
  'no-tracing': 'default minus tracing',
  'no-deadline': 'default minus deadline',
  'no-breaker': 'default minus breaker',
  'no-retry': 'default minus retry',
  'no-hedge': 'default minus hedge',
  'no-health': 'default minus health',
  'fire-breaker': 'default, breaker via opossum fire()',
  metrics: 'default + metrics',
  full: 'default + metrics, timeout set',
  bulkhead: 'default + bulkhead',
  adaptive: 'default + adaptive limit (gradient)',
  throttle: 'default + adaptive throttle',
  'rate-limit': 'default + rate limit',
  'all-limits': 'default + metrics + rate limit + throttle + adaptive limit',
};

async function child(variant, calls) {
  const { Mesh } = await import('trellis');
  const { staticEndpoints } = await import('trellis/discovery');
  const resilience = await import('trellis/resilience');
  const { metrics } = await import('trellis/telemetry');
  const { Registry } = await import('prom-client');
  const { default: CircuitBreaker } = await import('opossum');
  const { EventEmitter } = await import('node:events');

  // A fresh body per response, of the class the transport answers with (an internal module of the
  // build, loaded by path), already over when the layers see it, as a small answer is: its headers,
  // body and end arrive in one socket read, before the layers' continuations run. The caller
  // destroys it as if read. Layers that watch the body (the deadline's, the metrics') do their
  // real work; every variant pays the same for the body itself. It is empty and ended, so the
  // caller's resume() reads it to its end (a body destroyed unread would fail as aborted).
  const { TransportBody } = await import(new URL('../dist/transport/body-readable.js', import.meta.url).href);
  const noop = () => {};
  const answer = () => {
    const body = new TransportBody(noop, noop, undefined, null);
    body.push(null);
    body.over();
    return Promise.resolve({ statusCode: 200, headers: {}, trailers: {}, opaque: null, context: {}, body });
  };
  const stub = { name: 'transport', wrap: () => answer };
  const fireBreaker = {
    name: 'breaker',
    wrap(next, service) {
      const breaker = new CircuitBreaker(next, {
        timeout: false,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        rotateBucketController: new EventEmitter(),
      });
      service.onClose(() => breaker.shutdown());
      return (ctx) => breaker.fire(ctx);
    },
  };
  // Starts above the 64 callers, so the limit is exercised without shedding anything.
  const adaptive = () =>
    resilience.adaptiveConcurrency({
      limit: () => new resilience.GradientLimit({ initialLimit: 256, maxLimit: 1024 }),
    });
  const edit = (st) => {
    st = st.replace(stub);
    switch (variant) {
      case 'bare':
        return st.names.filter((n) => n !== 'balance' && n !== 'transport').reduce((s, n) => s.remove(n), st);
      case 'no-tracing':
        return st.remove('tracing');
      case 'no-deadline':
        return st.remove('deadline');
      case 'no-breaker':
        return st.remove('breaker');
      case 'no-retry':
        return st.remove('retry');
      case 'no-hedge':
        return st.remove('hedge');
      case 'no-health':
        return st.remove('health');
      case 'fire-breaker':
        return st.replace(fireBreaker);
      case 'metrics':
      case 'full':
        return metrics({ registry: new Registry() }).install(st);
      case 'bulkhead':
        return st.insertBefore('balance', resilience.bulkhead({ maxInFlight: 1024 }));
      case 'adaptive':
        return st.insertBefore('balance', adaptive());
      case 'throttle':
        return st.insertBefore('balance', resilience.adaptiveThrottle());
      case 'rate-limit':
        return st.insertBefore('balance', resilience.rateLimit({ ratePerSecond: 1e12 }));
      case 'all-limits':
        return metrics({ registry: new Registry() })
          .install(st)
          .insertBefore('balance', resilience.rateLimit({ ratePerSecond: 1e12 }))
          .insertBefore('balance', resilience.adaptiveThrottle())
          .insertBefore('balance', adaptive());
      default:
        return st;
    }
  };
  const mesh = Mesh.builder()
    .service('bench', (s) => s.discovery(staticEndpoints(['127.0.0.1:9'])).stack(edit))
    .build();
  const timed = variant === 'default-timeout' || variant === 'full';
  const options = timed ? { service: 'bench', path: '/', timeout: 5_000 } : { service: 'bench', path: '/' };
  const inFlight = 64;
  const run = async (n) => {
    let left = n;
    // Each caller yields a macrotask every 16 requests: the stub answers in microtasks, and without
    // a turn of the event loop the bodies' `close` events (nextTicks) would all wait until the end,
    // keeping every deadline and timer alive for the whole run (as a socket's answers never do).
    const worker = async () => {
      let sinceTurn = 0;
      while (left-- > 0) {
        (await mesh.request(options)).body.resume();
        if (++sinceTurn === 16) {
          sinceTurn = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  };
  await run(calls / 2); // warm-up: let V8 optimise
  const cpu0 = process.cpuUsage();
  await run(calls);
  const cpu = process.cpuUsage(cpu0);
  await mesh.close();
  process.stdout.write(`${(((cpu.user + cpu.system) * 1000) / calls).toFixed(0)}\n`);
}

async function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? 'true'];
    }),
  );
  if (args.child) return child(args.child, Number(args.calls));
  const reps = Number(args.reps ?? 5);
  const calls = Number(args.calls ?? 300_000);
  const names = args.only ? args.only.split(',') : Object.keys(VARIANTS);
  const results = new Map(names.map((n) => [n, []]));
  const self = fileURLToPath(import.meta.url);
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + rep) % names.length];
      const out = execFileSync(process.execPath, [self, `--child=${name}`, `--calls=${calls}`], {
        encoding: 'utf8',
      });
      results.get(name).push(Number(out.trim()));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bare = results.has('bare') ? median(results.get('bare')) : undefined;
  const def = results.has('default') ? median(results.get('default')) : undefined;
  console.log(
    `Node ${process.version}, ${reps} runs x ${calls} calls, 64 in flight; median ns of client CPU per request`,
  );
  console.log('| variant | ns/req median (min–max) | vs bare | vs default |');
  console.log('|---|---|---|---|');
  for (const name of names) {
    const xs = results.get(name);
    const m = median(xs);
    const diff = (base) => (base === undefined ? '' : `${m - base >= 0 ? '+' : ''}${m - base}`);
    console.log(
      `| ${VARIANTS[name]} | ${m} (${Math.min(...xs)}–${Math.max(...xs)}) | ${diff(bare)} | ${diff(def)} |`,
    );
  }
}

await main();
