import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { tracing } from '../../src/telemetry/index.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
let upstream: Upstream;
let mesh: Mesh;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  upstream = await startUpstream('traced');
  mesh = Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([upstream.address])).layer(tracing({ tracer })))
    .service('down', (s) => s.discovery(staticEndpoints(['127.0.0.1:1'])).layer(tracing({ tracer })))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
  await provider.shutdown();
  propagation.disable();
  context.disable();
});

beforeEach(() => exporter.reset());

describe('OpenTelemetry tracing layer (real SDK, real upstream process)', () => {
  test('a request becomes a call span with one CLIENT span per attempt, whose context reaches the upstream as traceparent', async () => {
    const parent = tracer.startSpan('handler');
    const res = await context.with(trace.setSpan(context.active(), parent), () =>
      mesh.request({ service: 'users', path: '/echo', headers: { 'x-caller': 'test' } }),
    );
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    parent.end();
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'GET');
    const call = spans.find((s) => s.kind === SpanKind.INTERNAL);
    const attempt = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(spans).toHaveLength(2);
    expect(call!.attributes['trellis.service']).toBe('users');
    expect(call!.attributes['http.response.status_code']).toBe(200);
    expect(call!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(attempt!.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
    expect(attempt!.attributes['server.port']).toBe(upstream.port);
    expect(attempt!.attributes['http.response.status_code']).toBe(200);
    expect(attempt!.attributes['http.request.resend_count']).toBeUndefined();
    expect(call!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(seen.headers.traceparent).toContain(attempt!.spanContext().spanId);
    expect(seen.headers['x-caller']).toBe('test');
  });

  test('the caller’s header object is not modified by propagation', async () => {
    const headers = { accept: 'application/json' };
    const res = await mesh.request({ service: 'users', path: '/echo', headers });
    await res.body.dump();
    expect(headers).toEqual({ accept: 'application/json' });
  });

  test('a transport failure marks the span as an error with the trellis error code', async () => {
    await expect(mesh.request({ service: 'down', path: '/' })).rejects.toThrow();
    const span = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.INTERNAL);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('TRELLIS_UPSTREAM_UNAVAILABLE');
    expect(span!.events.some((e) => e.name === 'exception')).toBe(true);
  });
});
