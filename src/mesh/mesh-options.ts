/** Mesh-wide settings the builder passes on. */
export interface MeshOptions {
  /** How long `close()` waits for requests in flight before cutting them, in ms. */
  closeTimeoutMs: number;
}
