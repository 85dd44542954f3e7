// systemd's notification protocol (sd_notify(3)) for `Type=notify` units: READY=1 once the agent runs, STATUS= with
// every transition (shown by `systemctl status`), WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on the way out.
// Without NOTIFY_SOCKET (not started by systemd) it does nothing.
//
// Node cannot send unix datagrams, and systemd-notify(1) is a child process: systemd may not attribute its message to
// the unit once it has exited (the race sd_notify(3) documents), so it needs NotifyAccess=all, and a fork per watchdog
// ping. unix-dgram (a small native addon) sends from the agent's own PID: NotifyAccess=main holds.
import { getSystemErrorName } from 'node:util';
import type { NodeState } from '../core/state.ts';
import type { CoreEvent, Effect } from '../core/types.ts';
import type { LogFn } from '../ports.ts';
import type { StepObserver } from '../daemon/controller.ts';

export interface NotifySocket {
  send(message: string): void;
  close(): void;
}

export type NotifySocketFactory = (path: string, log: LogFn) => Promise<NotifySocket>;

/** unix-dgram is loaded only under systemd: an agent run by hand never needs the native addon. */
export const unixDgramSocket: NotifySocketFactory = async (path, log) => {
  const { createSocket } = await import('unix-dgram');
  const socket = createSocket('unix_dgram');
  // No error may crash the agent: a lost notification costs at most a restart by the watchdog.
  socket.on('error', (err: Error) => log('warn', `systemd notification failed: ${err.message}`, { event: 'sd_notify' }));
  return {
    send: (message) => {
      const buf = Buffer.from(message);
      socket.send(buf, 0, buf.length, path, (err) => {
        if (err) log('warn', `systemd notification "${message.split('\n')[0]}" failed: ${errorName(err)}`, { event: 'sd_notify' });
      });
    },
    close: () => socket.close(),
  };
};

/** unix-dgram reports a negative errno as the code: "ENOENT" reads better than "send -2". */
function errorName(err: Error & { code?: unknown }): string {
  return typeof err.code === 'number' && err.code < 0 ? getSystemErrorName(err.code) : err.message;
}

export class SdNotify implements StepObserver {
  private timer: NodeJS.Timeout | null = null;

  private constructor(private readonly socket: NotifySocket | null, private readonly watchdogMs: number | null) {}

  /**
   * From the environment systemd gives a service. The watchdog is ours only if WATCHDOG_PID is unset or is our PID
   * (a child that inherited the variables must not ping for us).
   */
  static async fromEnv(env: NodeJS.ProcessEnv, log: LogFn, factory: NotifySocketFactory = unixDgramSocket): Promise<SdNotify> {
    const path = env.NOTIFY_SOCKET;
    if (!path) return new SdNotify(null, null);
    if (path.startsWith('@')) {
      log('warn', `NOTIFY_SOCKET ${path} is an abstract socket, which unix-dgram cannot address: no readiness or watchdog notifications`);
      return new SdNotify(null, null);
    }
    let socket: NotifySocket;
    try {
      socket = await factory(path, log);
    } catch (err) {
      log('error', `cannot talk to systemd on ${path}: ${(err as Error).message}`);
      return new SdNotify(null, null);
    }
    const usec = Number(env.WATCHDOG_USEC);
    const ours = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
    const watchdogMs = ours && Number.isFinite(usec) && usec > 0 ? usec / 1000 : null;
    if (env.WATCHDOG_USEC !== undefined && watchdogMs === null && ours) log('warn', `WATCHDOG_USEC "${env.WATCHDOG_USEC}" is not a positive number: no watchdog pings`);
    return new SdNotify(socket, watchdogMs);
  }

  get active(): boolean {
    return this.socket !== null;
  }

  /** READY=1, then the watchdog pings. The pings come from the event loop, so a loop that hangs stops them. */
  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
    if (this.watchdogMs !== null && !this.timer) {
      this.timer = setInterval(() => this.send('WATCHDOG=1'), this.watchdogMs / 2);
      this.timer.unref();
    }
  }

  stepped(_ev: CoreEvent, effects: readonly Effect[], _state: Readonly<NodeState>): void {
    for (const fx of effects) if (fx.type === 'transition') this.send(`STATUS=${fx.to}: ${fx.cause}`);
  }

  stopping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.send('STOPPING=1');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
  }

  private send(message: string): void {
    this.socket?.send(message);
  }
}
