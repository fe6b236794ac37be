import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BodyEndWatcher, whenBodyEnds } from '../../src/core/body-end.js';
import { staticEndpoints } from '../../src/discovery/static.js';
import { Mesh } from '../../src/mesh/mesh.js';
import { deadlineWheel } from '../../src/resilience/deadline-wheel.js';
import { until } from '../support/until.js';
import { startUpstream, type Upstream } from '../support/upstreams.js';

let upstream: Upstream;
let mesh: Mesh;

beforeAll(async () => {
  upstream = await startUpstream('bodies');
  mesh = Mesh.builder()
    .service('up', (s) => s.discovery(staticEndpoints([upstream.address])).stack((st) => st.remove('retry')))
    .build();
});

afterAll(async () => {
  await mesh?.close();
  await upstream?.stop();
});

function counter(): BodyEndWatcher & { calls: number } {
  return {
    calls: 0,
    bodyEnded() {
      this.calls++;
    },
  };
}

// The transport's response bodies tell watchers (the deadline guard, the metrics timer) when they
// are over, instead of each watcher adding a `close` listener to the stream.
describe('response bodies from the transport report their own end', () => {
  it('tells a watcher once, when the last byte has arrived, with no close listener on the stream', async () => {
    const response = await mesh.request({ service: 'up', path: '/stream?n=3&ms=20', timeout: 5_000 });
    const watcher = counter();
    whenBodyEnds(response.body, watcher);
    // The deadline layer watches this body too: neither it nor this watcher listens to the stream.
    expect(response.body.listenerCount('close')).toBe(0);
    expect(watcher.calls).toBe(0);
    // Not read yet: the body is over for the transport once the upstream has sent it all.
    await until(() => watcher.calls === 1, 'the end of the streamed body');
    expect(deadlineWheel.pending).toBe(0);
    expect(await response.body.text()).toBe('chunk-0\nchunk-1\nchunk-2\n');
    expect(watcher.calls).toBe(1);
    // A watcher that comes after the end is told at once.
    const late = counter();
    whenBodyEnds(response.body, late);
    expect(late.calls).toBe(1);
  });

  it('tells watchers once when the upstream cuts the body short', async () => {
    const response = await mesh.request({ service: 'up', path: '/close-mid', timeout: 5_000 });
    const watcher = counter();
    whenBodyEnds(response.body, watcher);
    await expect(response.body.text()).rejects.toMatchObject({ code: 'TRELLIS_UPSTREAM_UNAVAILABLE' });
    expect(watcher.calls).toBe(1);
    expect(deadlineWheel.pending).toBe(0);
  });

  it('tells watchers once when the caller destroys the body mid-stream', async () => {
    const response = await mesh.request({ service: 'up', path: '/stream?n=50&ms=20', timeout: 5_000 });
    const watcher = counter();
    whenBodyEnds(response.body, watcher);
    response.body.on('error', () => {});
    response.body.destroy();
    await until(() => watcher.calls === 1, 'the watcher to hear of the cancelled body');
    expect(deadlineWheel.pending).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watcher.calls).toBe(1);
  });
});
