// Ports for the benchmarks' own servers (etcd, haproxy): the kernel's choice on 127.0.0.1.
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (bound, then released at once for the server to bind). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
