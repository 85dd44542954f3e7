// The part of unix-dgram (no type declarations of its own) that hanfs uses: sending to systemd's notify socket, and
// binding one in the test that stands in for systemd.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    /** A negative errno or a full socket ('congestion') comes back through the callback. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (message: Buffer, info: { path?: string }) => void): UnixDgramSocket;
}
