import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** What undici's response body stream is built from. */
export interface BodyReadableOptions {
  /** Asks undici for more data (the `resume` its handler API gives `onHeaders`). */
  resume: () => void;
  /** Cancels the request (called when the stream is destroyed before its end). */
  abort: () => void;
  /** The response's `content-type`, for `blob()`. */
  contentType?: string;
  /** The response's `content-length`, checked against what arrives. */
  contentLength?: number | null;
}

/** undici's response body: a Readable with `text()`, `json()`, `dump()` and the rest. */
export type BodyReadable = Dispatcher.ResponseData['body'] & Readable;

type BodyReadableClass = new (options: BodyReadableOptions) => BodyReadable;

/**
 * The class undici's own `request()` builds response bodies with. It is not exported from
 * undici's entry point, so it is loaded by path: the mesh sends with `dispatch()` and its own
 * handler (which it needs to settle and cancel requests that are still queued), yet
 * `mesh.request()` must keep answering with exactly the body users know from undici. The path
 * and constructor are pinned by `test/core/body-readable.test.ts`, which fails if an undici
 * update moves or changes them.
 */
export const BodyReadable: BodyReadableClass = (
  createRequire(import.meta.url)('undici/lib/api/readable.js') as { Readable: BodyReadableClass }
).Readable;
