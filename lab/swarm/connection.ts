// One TCP connection to an NFS server, carrying RPC calls matched to their replies by xid. A call that gets no
// reply within its timeout fails, and so does the connection: after a server has moved, the old connection is
// silent (its peer is gone, or an RST is still on its way), and a fresh one is how a client finds the new server.
import { connect, type Socket } from 'node:net';
import { decodeReply, encodeCall, frame, NFS_PROGRAM, NFS_V4, NFSPROC4_COMPOUND, RecordReader, type AuthSys } from './rpc.ts';
import type { XdrReader } from './xdr.ts';

/** The transport failed (refused, reset, closed, timed out): the call may or may not have reached the server. */
export class ConnectionLost extends Error {
  constructor(readonly reason: string) {
    super(`connection lost: ${reason}`);
  }
}

interface Pending {
  resolve(body: XdrReader): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

let nextXid = (Math.random() * 0x7fffffff) >>> 0;

export class RpcConnection {
  private readonly pending = new Map<number, Pending>();
  private closedWith: ConnectionLost | null = null;

  private constructor(private readonly socket: Socket, private readonly auth: AuthSys) {
    const records = new RecordReader((msg) => this.onMessage(msg));
    socket.on('data', (chunk) => {
      try {
        records.push(chunk);
      } catch (err) {
        this.fail(`bad record: ${(err as Error).message}`);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? err.message));
    socket.on('close', () => this.fail('closed'));
  }

  /**
   * Connects, or fails with ConnectionLost within timeoutMs (a SYN to an address nobody holds gets no answer). With
   * `reservedPort`, from a port of 600–1023 picked at random, another one while the one picked is taken.
   */
  static async open(host: string, port: number, auth: AuthSys, timeoutMs: number, reservedPort = false): Promise<RpcConnection> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await RpcConnection.openFrom(host, port, auth, timeoutMs, reservedPort ? 600 + Math.floor(Math.random() * 424) : undefined);
      } catch (err) {
        if (!(err instanceof ConnectionLost && err.reason === 'EADDRINUSE' && attempt < 20)) throw err;
      }
    }
  }

  private static openFrom(host: string, port: number, auth: AuthSys, timeoutMs: number, localPort: number | undefined): Promise<RpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, ...(localPort === undefined ? {} : { localPort }) });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionLost(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RpcConnection(socket, auth));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ConnectionLost(err.code ?? err.message));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** One NFSv4 COMPOUND; resolves with a reader at its results. */
  call(args: Buffer, timeoutMs: number): Promise<XdrReader> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const xid = nextXid = (nextXid + 1) >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`no reply within ${timeoutMs} ms`), timeoutMs);
      this.pending.set(xid, { resolve, reject, timer });
      this.socket.write(frame(encodeCall(xid, NFS_PROGRAM, NFS_V4, NFSPROC4_COMPOUND, this.auth, args)));
    });
  }

  close(): void {
    this.fail('closed by the client');
  }

  private onMessage(msg: Buffer): void {
    let reply: ReturnType<typeof decodeReply>;
    try {
      reply = decodeReply(msg);
    } catch (err) {
      // An RPC-level refusal names its xid first: fail that call alone.
      const xid = msg.length >= 4 ? msg.readUInt32BE(0) : -1;
      const p = this.pending.get(xid);
      if (!p) return;
      this.pending.delete(xid);
      clearTimeout(p.timer);
      p.reject(err as Error);
      return;
    }
    const p = this.pending.get(reply.xid);
    if (!p) return; // a reply to a call that timed out
    this.pending.delete(reply.xid);
    clearTimeout(p.timer);
    p.resolve(reply.body);
  }

  /** Closes the connection for good and fails every call still waiting. */
  private fail(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new ConnectionLost(reason);
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.closedWith);
    }
    this.pending.clear();
  }
}
