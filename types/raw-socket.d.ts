// raw-socket 1.8 ships no types: the parts hanfs uses (net-ping's sessions, and the tickle ACKs' raw TCP socket),
// after its README and index.js.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  namespace raw {
    interface Socket extends EventEmitter {
      /** setsockopt(2) with an integer value, or with `length` bytes of `value`. Throws on failure. */
      setOption(level: number, option: number, value: number): void;
      setOption(level: number, option: number, value: Buffer, length: number): void;
      /** Sends `length` bytes of `buffer` from `offset` to the dotted-quad `address`. */
      send(buffer: Buffer, offset: number, length: number, address: string,
        afterCallback: (error: Error | null, bytes: number) => void): void;
      /** Stops reading what arrives: a raw TCP socket is handed a copy of every TCP segment the host receives. */
      pauseRecv(): this;
      close(): this;
    }

    function createSocket(options: { protocol: number }): Socket;

    const Protocol: { None: number; ICMP: number; TCP: number; UDP: number };
    const SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
    /** SO_BINDTODEVICE exists on Linux only. */
    const SocketOption: { SO_BINDTODEVICE: number; IP_TTL: number; IP_HDRINCL: number; SO_RCVBUF: number; SO_SNDBUF: number };
  }

  export = raw;
}
