import type { Socket } from 'node:net';

/**
 * Makes a TLS alert the end of the connection it arrives on. Under TLS 1.3 a server that refuses
 * our client certificate sends its alert after the handshake, so it arrives on the first read as
 * an `error` just before the connection's end; undici's client then ends the socket with its own
 * `other side closed` and the alert is lost, leaving the endpoint to be blamed. Destroying the
 * socket with the alert first makes it the error undici reports. One listener per connection,
 * registered before undici's own (the connector hands the socket over after this).
 */
export function keepTlsAlert(socket: Socket): void {
  socket.on('error', destroyWithAlert);
}

function destroyWithAlert(this: Socket, err: Error & { code?: unknown }): void {
  if (!this.destroyed && typeof err.code === 'string' && err.code.startsWith('ERR_SSL_')) this.destroy(err);
}
