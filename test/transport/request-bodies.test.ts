import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isTrellisError, type TrellisError } from '../../src/core/errors.js';
import { failureOf } from '../support/failure.js';
import { useUpstreamMesh } from '../support/upstream-mesh.js';

const up = useUpstreamMesh('bodies');

/** An async iterable that never yields. */
function silent(): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) }),
  };
}

describe('request bodies that never end', () => {
  for (const method of ['PUT', 'POST']) {
    it(`a ${method} whose Readable never ends honours timeout 500`, async () => {
      const body = new Readable({ read() {} });
      body.push('start');
      const { err, ms } = await failureOf<TrellisError>(() =>
        up.mesh.request({ service: 'up', method, path: '/echo', body, timeout: 500 }),
      );
      expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
      expect(ms).toBeLessThan(1500);
      expect(body.destroyed).toBe(true);
    });

    it(`a ${method} whose Readable never ends honours the caller's abort`, async () => {
      const body = new Readable({ read() {} });
      body.push('start');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const { err, ms } = await failureOf<TrellisError>(() =>
        up.mesh.request({ service: 'up', method, path: '/echo', body, signal: controller.signal }),
      );
      expect(isTrellisError(err, ErrorCode.Aborted)).toBe(true);
      expect(ms).toBeLessThan(1500);
    });

    it(`a ${method} whose async iterable never yields honours timeout 300`, async () => {
      const { err, ms } = await failureOf<TrellisError>(() =>
        up.mesh.request({ service: 'up', method, path: '/echo', body: silent(), timeout: 300 }),
      );
      expect(isTrellisError(err, ErrorCode.DeadlineExceeded)).toBe(true);
      expect(ms).toBeLessThan(1500);
    });
  }
});

describe('body failures are TrellisErrors with their cause', () => {
  for (const method of ['PUT', 'POST']) {
    it(`a ${method} body stream failing on the caller's side: TRELLIS_INVALID_REQUEST, not the endpoint's fault`, async () => {
      const body = new Readable({ read() {} });
      body.push('part');
      setTimeout(() => body.destroy(new Error('disk read failed')), 50);
      const { err } = await failureOf<TrellisError>(() =>
        up.mesh.request({ service: 'up', method, path: '/echo', body, timeout: 2000 }),
      );
      expect(isTrellisError(err, ErrorCode.InvalidRequest)).toBe(true);
      expect((err.cause as Error).message).toBe('disk read failed');
      expect(err.details.requestBodyFailed).toBe(true);
    });
  }

  it('a response cut short by the upstream fails its body with TRELLIS_UPSTREAM_UNAVAILABLE', async () => {
    const res = await up.mesh.request({ service: 'up', path: '/close-mid' });
    expect(res.statusCode).toBe(200);
    const { err } = await failureOf<TrellisError>(() => res.body.text());
    expect(isTrellisError(err, ErrorCode.UpstreamUnavailable)).toBe(true);
    expect((err.cause as { code?: string }).code).toBe('UND_ERR_SOCKET');
  });
});

describe('bodies of the wrong type', () => {
  for (const [name, body] of [
    ['a number', 42],
    ['a plain object', { a: 1 }],
    ['a boolean', true],
  ] as const) {
    for (const method of ['PUT', 'POST']) {
      it(`${name} as a ${method} body is refused with the accepted types listed`, async () => {
        const { err } = await failureOf<TrellisError>(() =>
          up.mesh.request({ service: 'up', method, path: '/echo', body: body as never }),
        );
        expect(isTrellisError(err, ErrorCode.InvalidRequest)).toBe(true);
        expect(err.message).toMatch(/a string, a Buffer .* a Readable stream/);
        expect(err.details.requestSent).toBe(false);
      });
    }
  }

  for (const method of ['PUT', 'POST']) {
    it(`an array of Buffers is sent as a ${method} body, as undici sends it`, async () => {
      const body = [Buffer.from('one,'), Buffer.from('two')];
      const res = await up.mesh.request({ service: 'up', method, path: '/echo', body: body as never });
      const echoed = (await res.body.json()) as { body: string };
      expect(echoed.body).toBe('one,two');
    });
  }
});
