// A second party for someone else's lock: `node --import tsx lab/swarm/lock-probe.ts --server ADDR --export /PATH
// FILE...` asks the server, as an NFSv4.1 client of its own, whether each FILE (a path under the export) has its
// first 4 KiB write-locked by somebody: LOCKT for a write lock on the range, the server's own word on a conflict.
// NFS4ERR_DENIED: another client holds a lock there ("locked"); NFS4_OK: nobody does ("free"). While the server is
// in grace LOCKT is refused with NFS4ERR_GRACE (a holder may not have reclaimed yet): the probe asks again until
// grace is over or its time is up. It takes no lock, so a lost lock is reported without being taken from anybody.
// Prints one JSON object, FILE → { answer, graceAnswers, ms }. In the lab it runs in the client's namespace
// (lab/swarm/in-lab.ts, probeLocks); the kernel-client test uses it to prove a guest still holds its locks.
import { parseArgs } from 'node:util';
import { LOCK_TYPE, NFS4ERR, statusName } from './nfs4-const.ts';
import { ConnectionLost, Nfs4Client, Nfs4Error } from './nfs4-client.ts';
import { getFh, lockt, lookup, putFh, putRootFh, reclaimComplete } from './nfs4-ops.ts';

export interface ProbeAnswer {
  /** "locked", "free", or what the server or the network said instead (e.g. "NFS4ERR_NOENT"). */
  answer: string;
  /** LOCKTs refused with NFS4ERR_GRACE before the answer. */
  graceAnswers: number;
  /** From the first LOCKT to the answer. */
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RETRY = new Set<number>([NFS4ERR.GRACE, NFS4ERR.DELAY]);

export async function probeLocks(server: string, exportPath: string, files: string[], timeoutMs: number, port = 2049): Promise<Record<string, ProbeAnswer>> {
  const client = new Nfs4Client({ host: server, port, ownerId: `hanfs-lock-probe-${process.pid}-${Date.now()}`, callTimeoutMs: 2000, connectTimeoutMs: 1000, reservedPort: true });
  const deadline = Date.now() + timeoutMs;
  const out: Record<string, ProbeAnswer> = {};
  const owner = () => ({ clientid: client.clientid, owner: Buffer.from(`lockt:${client.opts.ownerId}`) });
  try {
    await untilDeadline(deadline, async () => {
      await client.establish();
      // A new client ID's requests get NFS4ERR_GRACE until it says it has nothing to reclaim (RFC 8881 §18.51.3).
      await client.compound([reclaimComplete(false)]).catch((err: unknown) => {
        if (!(err instanceof Nfs4Error && err.status === NFS4ERR.COMPLETE_ALREADY)) throw err;
      });
    });
    for (const file of files) {
      const path = [...exportPath.split('/'), ...file.split('/')].filter(Boolean);
      const started = Date.now();
      let graceAnswers = 0;
      let answer = '';
      while (answer === '') {
        try {
          const [fh] = (await client.compound([putRootFh(), ...path.map(lookup), getFh()])).slice(-1) as [Buffer];
          await client.compound([putFh(fh), lockt(LOCK_TYPE.WRITE, 0n, 4096n, owner())]);
          answer = 'free';
        } catch (err) {
          if (err instanceof Nfs4Error && err.status === NFS4ERR.DENIED) answer = 'locked';
          else if (err instanceof Nfs4Error && RETRY.has(err.status) && Date.now() < deadline) {
            if (err.status === NFS4ERR.GRACE) graceAnswers++;
            await sleep(100);
          } else answer = err instanceof Nfs4Error ? statusName(err.status) : (err as Error).message;
        }
      }
      out[file] = { answer, graceAnswers, ms: Date.now() - started };
    }
  } finally {
    await client.destroy();
  }
  return out;
}

/** Runs `f` until it succeeds; a lost connection or NFS4ERR_DELAY is tried again until the deadline. */
async function untilDeadline(deadline: number, f: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      return await f();
    } catch (err) {
      const again = err instanceof ConnectionLost || (err instanceof Nfs4Error && err.status === NFS4ERR.DELAY);
      if (!again || Date.now() >= deadline) throw err;
      await sleep(200);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: v, positionals: files } = parseArgs({
    allowPositionals: true,
    options: { server: { type: 'string' }, export: { type: 'string' }, 'timeout-ms': { type: 'string', default: '20000' }, port: { type: 'string', default: '2049' } },
  });
  if (!v.server || !v.export || files.length === 0 || !(Number(v['timeout-ms']) > 0)) {
    console.error('usage: lock-probe.ts --server ADDR --export /PATH [--timeout-ms MS] [--port N] FILE...');
    process.exit(2);
  }
  probeLocks(v.server, v.export, files, Number(v['timeout-ms']), Number(v.port)).then((r) => {
    console.log(JSON.stringify(r));
  }, (err: Error) => {
    console.error(`lock-probe: ${err.message}`);
    process.exit(1);
  });
}
