// raw-socket 1.8 ships no types: the parts hanfs uses (through net-ping's sessions), after its README and index.js.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  namespace raw {
    interface Socket extends EventEmitter {
      /** setsockopt(2) with an integer value, or with `length` bytes of `value`. Throws on failure. */
      setOption(level: number, option: number, value: number): void;
      setOption(level: number, option: number, value: Buffer, length: number): void;
      close(): this;
    }

    const SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
    /** SO_BINDTODEVICE exists on Linux only. */
    const SocketOption: { SO_BINDTODEVICE: number; IP_TTL: number; SO_RCVBUF: number; SO_SNDBUF: number };
  }

  export = raw;
}
