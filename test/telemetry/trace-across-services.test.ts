import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { withServerSpan } from '../../src/telemetry/server-span.js';
import { tracing } from '../../src/telemetry/tracing-layer.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

describe('one trace through two real services (SDK in-memory exporter)', () => {
  let b: Upstream;
  let front: Server;
  let frontMesh: Mesh;
  let clientMesh: Mesh;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    b = await startUpstream('trace-b');
    // Service A: a real HTTP server whose handler calls service B twice through its own mesh.
    // B has a dead endpoint beside the live one, so round robin sends one of the two calls'
    // first attempts to it, and that call is retried on the live one.
    frontMesh = Mesh.builder()
      .service('b', (s) =>
        s
          .discovery(staticEndpoints(['127.0.0.1:1', b.address]))
          .balancer(roundRobin())
          .layer(tracing({ tracer })),
      )
      .build();
    front = createServer(
      withServerSpan(
        async (_req, res) => {
          const seen: string[] = [];
          for (let i = 0; i < 2; i++) {
            const answer = await frontMesh.request({ service: 'b', path: '/echo' });
            seen.push(
              ((await answer.body.json()) as { headers: Record<string, string> }).headers.traceparent!,
            );
          }
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(seen));
        },
        { tracer },
      ),
    );
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    const port = (front.address() as { port: number }).port;
    clientMesh = Mesh.builder()
      .service('a', (s) => s.discovery(staticEndpoints([`127.0.0.1:${port}`])).layer(tracing({ tracer })))
      .build();
  });
  afterAll(async () => {
    await clientMesh?.close();
    await frontMesh?.close();
    front?.close();
    await b?.stop();
    await provider.shutdown();
    propagation.disable();
    context.disable();
  });

  it('links call, attempt and server spans parent to child, with a resend count on the retry', async () => {
    const root = tracer.startSpan('test');
    const answer = await context.with(trace.setSpan(context.active(), root), () =>
      clientMesh.request({ service: 'a', path: '/work' }),
    );
    const traceparentsAtB = (await answer.body.json()) as string[];
    root.end();
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER)).toBe(true);

    const spans = exporter.getFinishedSpans();
    const traceId = root.spanContext().traceId;
    expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    const children = (parent: ReadableSpan | { spanContext(): { spanId: string } }) =>
      spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

    const [callA] = children(root);
    expect(callA).toMatchObject({ kind: SpanKind.INTERNAL, attributes: { 'trellis.service': 'a' } });
    const [attemptA] = children(callA!);
    expect(attemptA).toMatchObject({
      kind: SpanKind.CLIENT,
      attributes: { 'http.response.status_code': 200 },
    });
    const [server] = children(attemptA!);
    expect(server).toMatchObject({
      kind: SpanKind.SERVER,
      attributes: { 'url.path': '/work', 'http.response.status_code': 200 },
    });
    const callsB = children(server!);
    expect(callsB).toHaveLength(2);
    expect(callsB.every((s) => s.kind === SpanKind.INTERNAL && s.attributes['trellis.service'] === 'b')).toBe(
      true,
    );

    // Each attempt on the dead endpoint failed and was followed by a resend to the live one.
    const attemptsB = callsB.flatMap((call) => children(call));
    expect(attemptsB.every((s) => s.kind === SpanKind.CLIENT)).toBe(true);
    const failed = attemptsB.filter((s) => s.attributes['error.type'] === 'TRELLIS_UPSTREAM_UNAVAILABLE');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((s) => s.attributes['server.port'] === 1)).toBe(true);
    expect(attemptsB).toHaveLength(2 + failed.length);
    const resent = attemptsB.filter((s) => s.attributes['http.request.resend_count'] === 1);
    expect(resent).toHaveLength(failed.length);
    expect(resent.every((s) => s.attributes['server.port'] === b.port)).toBe(true);
    // B saw the context of the attempt spans that reached it.
    const reached = attemptsB
      .filter((s) => s.attributes['server.port'] === b.port)
      .map((s) => s.spanContext().spanId);
    expect(traceparentsAtB.map((tp) => tp.split('-')[2]).sort()).toEqual(reached.sort());
  });
});
