// node:dgram's bind and close as promises: dgram reports a failed bind as an 'error' event, not to bind's callback.
import type { Socket } from 'node:dgram';

export function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, address);
  });
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** What went wrong, briefly: the errno name (EADDRNOTAVAIL, ENETUNREACH...) where there is one. */
export function errorCode(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return (err as NodeJS.ErrnoException).code ?? err.message;
}
