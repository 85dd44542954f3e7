// `hanfs disk init`: writes a fresh mailbox (layout.ts) onto the shared device. It refuses to overwrite anything
// but zeroes unless forced: a live mailbox holds the pair's fences, and a mistyped device name may hold a file system.
import { randomUUID } from 'node:crypto';
import type { NodeId } from '../core/types.ts';
import { SectorDevice, type IoMode } from './direct-io.ts';
import { describeContent } from './dump.ts';
import { encodeHeader, MAILBOX_SECTORS, type MailboxHeader, type MailboxTimeouts, type SectorSize } from './layout.ts';

export interface InitOptions {
  device: string;
  pairId: string;
  /** In the config's order: node 0 gets slot 0. */
  nodes: [NodeId, NodeId];
  /** Default: the device's logical block size (512, or 4096 on a 4Kn disk). */
  sectorSize?: SectorSize;
  /** Recorded for information; zeroes when not known. */
  timeouts: MailboxTimeouts;
  /** Only to tell verified records from unverified ones when describing what is being replaced. */
  secret: Buffer | null;
  force: boolean;
}

export interface InitDone {
  header: MailboxHeader;
  mode: IoMode;
  /** What the device held before, when it was forced over; null if the mailbox area was all zeroes. */
  replaced: string | null;
}

/** Throws an Error that says what is wrong, and writes nothing then. */
export function initMailbox(opts: InitOptions, now = Date.now()): InitDone {
  const disk = SectorDevice.open(opts.device);
  try {
    const { logicalBlockSize, sizeBytes, mode } = disk.info;
    const sectorSize = opts.sectorSize ?? (logicalBlockSize > 512 ? 4096 : 512);
    if (sectorSize % logicalBlockSize !== 0) {
      throw new Error(`${opts.device}: sectors of ${sectorSize} bytes are smaller than the device's ${logicalBlockSize}-byte blocks`);
    }
    const area = MAILBOX_SECTORS * sectorSize;
    if (sizeBytes < area) throw new Error(`${opts.device}: ${sizeBytes} bytes, the mailbox needs ${MAILBOX_SECTORS} sectors of ${sectorSize}`);
    const header: MailboxHeader = { sectorSize, uuid: newUuid(), pairId: opts.pairId, nodes: opts.nodes, timeouts: opts.timeouts };
    const encoded = encodeHeader(header);
    if (!encoded.ok) throw new Error(encoded.error);
    const found = describeContent(disk, opts.secret, now, area);
    if (found && !opts.force) throw new Error(`${opts.device} holds ${found}; refusing to overwrite it without --force`);
    // The header last: agents refuse a fresh device as not initialised until it is there, so none starts on a
    // half-written mailbox.
    for (let sector = 1; sector < MAILBOX_SECTORS; sector++) disk.write(sector * sectorSize, Buffer.alloc(sectorSize));
    disk.write(0, encoded.bytes);
    return { header, mode, replaced: found };
  } finally {
    disk.close();
  }
}

/** A random (version 4) UUID, as the 16 bytes the header holds. */
function newUuid(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}
