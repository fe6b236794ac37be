import { request } from 'node:http';

/** One Server-Sent Event as a test reads it. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A live SSE stream: the events so far, and a way to wait for more. */
export interface SseStream {
  readonly status: number;
  readonly events: SseEvent[];
  /** Resolves once `predicate` holds for the events received (polling, bounded by `ms`). */
  until(predicate: (events: SseEvent[]) => boolean, ms?: number): Promise<void>;
  close(): void;
}

/** Opens `url` as an EventSource would and parses what arrives. */
export function openSse(url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = [];
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, data: data.join('\n') });
          end = buffered.indexOf('\n\n');
        }
      });
      res.on('error', () => {});
      resolve({
        status: res.statusCode ?? 0,
        events,
        async until(predicate, ms = 5000) {
          const deadline = Date.now() + ms;
          while (!predicate(events)) {
            if (Date.now() > deadline)
              throw new Error(`SSE: condition not met in ${ms} ms; got ${events.length} events`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
