// net-ping 1.2 ships no types: the parts hanfs uses, after its README and index.js.
declare module 'net-ping' {
  import type { EventEmitter } from 'node:events';
  import type raw from 'raw-socket';

  namespace ping {
    interface SessionOptions {
      /** Re-sends after each timeout; 0 sends once. Default 1. */
      retries?: number;
      /** Milliseconds to wait for each reply. Default 2000. */
      timeout?: number;
      /** Identifier in every request, to tell our replies from other pingers'. Default process.pid % 65535. */
      sessionId?: number;
      packetSize?: number;
      ttl?: number;
    }

    interface Session extends EventEmitter {
      /** Read by each pingHost() when it queues its request. */
      timeout: number;
      /** The raw socket, created with the session: the place for socket options such as SO_BINDTODEVICE. */
      getSocket(): raw.Socket;
      /** One echo request; `error` is null on a reply, else why there was none (RequestTimedOutError, ...). */
      pingHost(target: string, callback: (error: Error | null, target: string, sent?: Date, received?: Date) => void): this;
      /** Closes the socket; pending requests get an Error "Socket forcibly closed". */
      close(): this;
    }

    class RequestTimedOutError extends Error {}

    /** Opens the raw ICMP socket at once: throws (a plain "Operation not permitted") without CAP_NET_RAW. */
    function createSession(options?: SessionOptions): Session;
  }

  export = ping;
}
