// A free TCP port on loopback (bound, read, released) for a child process to listen on.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}
