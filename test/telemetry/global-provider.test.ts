import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { staticEndpoints } from '../../src/discovery/index.js';
import { Mesh } from '../../src/index.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

// The default tracing layer uses the API's global tracer, which makes no-op spans until an SDK
// registers a provider. These tests register the propagator and the SDK part way through, as an
// application that starts OpenTelemetry after building its mesh would.

let upstream: Upstream;

function meshFor(): Mesh {
  return Mesh.builder()
    .service('users', (s) => s.discovery(staticEndpoints([upstream.address])))
    .build();
}

async function headersSeen(mesh: Mesh): Promise<Record<string, string>> {
  const res = await mesh.request({ service: 'users', path: '/echo' });
  return ((await res.body.json()) as { headers: Record<string, string> }).headers;
}

beforeAll(async () => {
  upstream = await startUpstream('global-otel');
});

afterAll(async () => {
  await upstream?.stop();
  trace.disable();
  propagation.disable();
  context.disable();
});

describe('tracing on the global provider (real SDK registered late, real upstream process)', () => {
  test('without an SDK, still passes the caller’s trace context on once a propagator is registered', async () => {
    const mesh = meshFor();
    try {
      expect((await headersSeen(mesh)).traceparent).toBeUndefined();
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const caller = trace.setSpanContext(context.active(), {
        traceId,
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
        isRemote: true,
      });
      const seen = await context.with(caller, () => headersSeen(mesh));
      expect(seen.traceparent).toContain(traceId);
    } finally {
      await mesh.close();
    }
  });

  test('records spans once an SDK registers a provider after the mesh was built', async () => {
    const mesh = meshFor();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // No propagator either, so only the provider decides whether spans are made.
    propagation.disable();
    try {
      await headersSeen(mesh);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
      trace.setGlobalTracerProvider(provider);
      const seen = await headersSeen(mesh);
      const spans = exporter.getFinishedSpans().filter((span) => span.name === 'GET');
      // The call's span and its one attempt's span.
      expect(spans.map((span) => span.kind).sort()).toEqual([SpanKind.INTERNAL, SpanKind.CLIENT].sort());
      expect(spans.find((span) => span.kind === SpanKind.INTERNAL)?.attributes['trellis.service']).toBe(
        'users',
      );
      expect(seen.traceparent).toBeUndefined();
    } finally {
      await mesh.close();
      await provider.shutdown();
    }
  });
});
