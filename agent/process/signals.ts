// SIGTERM and SIGINT go through one guarded teardown; a second signal, or a teardown that hangs, forces the exit.
export function onShutdownSignals(teardown: (signal: string) => Promise<void>, forceAfterMs = 10_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    setTimeout(() => process.exit(1), forceAfterMs).unref();
    teardown(signal).catch(() => (process.exitCode = 1));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
