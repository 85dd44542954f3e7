// Sector I/O on the mailbox disk that bypasses the page cache. On a real dual-ported disk the partner machine writes
// the sectors behind our kernel's back: a read served from our page cache would show its slot as it was when we
// first read it, and a write left in our page cache would never reach the partner. Hence O_DIRECT (no cache) and
// O_SYNC (the write is on the medium when it returns), as SBD does, and every write read back and compared.
//
// O_DIRECT needs the memory buffer aligned to the device's logical block size (and the offset and length to be
// multiples of it). Node cannot allocate aligned memory: a Buffer's backing store comes from malloc, whose pointers
// are only 16-byte aligned. Measured here on a loop device: a Buffer.allocUnsafeSlow started 80 bytes before a
// 512-byte boundary, and 4 KiB O_DIRECT reads into it at the offsets 0, 8, ..., 4088 failed with EINVAL except at
// the 8 offsets on a 512-byte boundary; yet 512-byte reads succeeded at 449 of those 512 offsets (the kernel
// accepts less alignment for a transfer within one page), so probing for a buffer that "works" with one small
// read proves nothing about the next, larger one. WebAssembly memory, however, is mapped by V8 straight from the
// page allocator, so it always starts on a page boundary (4 KiB: a multiple of every logical block size up to the
// page size); the buffer-tie package relies on the same property. One 64 KiB WebAssembly page is the I/O buffer:
// data is copied into it before a write and out of it after a read. Opening still checks the path with one
// O_DIRECT read, so a file system that takes the flag but refuses the I/O is found at once, not at the first write.
//
// Where the file system refuses O_DIRECT (EINVAL, e.g. ramfs, or tmpfs before Linux 6.6), the device is opened
// with O_DSYNC instead and `mode` says 'dsync'. That is only sound where both nodes share one kernel, and so one
// page cache: the namespace lab, whose two "servers" are namespaces of one machine with the mailbox on a file or
// loop device. A real pair always gets O_DIRECT on a block device.
import { closeSync, constants, openSync, readFileSync, readSync, statSync, writeSync, type Stats } from 'node:fs';

export type IoMode = 'direct' | 'dsync';

const IO_BUFFER_BYTES = 64 * 1024;
const DEFAULT_LOGICAL_BLOCK = 512;

export interface SectorDeviceInfo {
  path: string;
  mode: IoMode;
  /** Why O_DIRECT was not used (null in 'direct' mode): to be said once in the log. */
  directRefused: string | null;
  sizeBytes: number;
  /** O_DIRECT transfers are multiples of this, at offsets that are multiples of it. */
  logicalBlockSize: number;
}

export class SectorDevice {
  private readonly aligned = Buffer.from(new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer);

  private constructor(private readonly fd: number, readonly info: SectorDeviceInfo) {}

  /** Opens the device or file for sector I/O (read and write unless `readOnly`); throws on failure. */
  static open(path: string, opts: { readOnly?: boolean } = {}): SectorDevice {
    const access = opts.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    const geometry = deviceGeometry(path);
    let fd: number;
    try {
      fd = openSync(path, access | constants.O_DIRECT | constants.O_SYNC);
    } catch (err) {
      if (errno(err) !== 'EINVAL') throw ioError(path, 'open', err);
      return SectorDevice.openDsync(path, access, geometry, 'the file system refuses to open it with O_DIRECT (EINVAL)');
    }
    const device = new SectorDevice(fd, { path, mode: 'direct', directRefused: null, ...geometry });
    let refused: boolean;
    try {
      refused = device.refusesDirectRead();
    } catch (err) {
      device.close();
      throw err;
    }
    if (!refused) return device;
    device.close();
    return SectorDevice.openDsync(path, access, geometry, 'the file system accepts O_DIRECT but fails its reads (EINVAL)');
  }

  private static openDsync(path: string, access: number, geometry: Geometry, why: string): SectorDevice {
    try {
      const fd = openSync(path, access | constants.O_DSYNC);
      return new SectorDevice(fd, { path, mode: 'dsync', directRefused: why, ...geometry });
    } catch (err) {
      throw ioError(path, 'open', err);
    }
  }

  /** Reads `length` bytes at `offset`; both multiples of the logical block size. Throws on error or short read. */
  read(offset: number, length: number): Buffer {
    const buf = this.window(offset, length);
    let done: number;
    try {
      done = readSync(this.fd, buf, 0, length, offset);
    } catch (err) {
      throw ioError(this.info.path, `read of ${length} bytes at ${offset}`, err);
    }
    if (done !== length) throw new Error(`${this.info.path}: short read at ${offset}: ${done} of ${length} bytes (the device ends there)`);
    return Buffer.from(buf);
  }

  /** Writes `data` at `offset`, then reads it back and compares: throws unless the medium holds exactly `data`. */
  write(offset: number, data: Uint8Array): void {
    const buf = this.window(offset, data.length);
    buf.set(data);
    let done: number;
    try {
      done = writeSync(this.fd, buf, 0, data.length, offset);
    } catch (err) {
      throw ioError(this.info.path, `write of ${data.length} bytes at ${offset}`, err);
    }
    if (done !== data.length) throw new Error(`${this.info.path}: short write at ${offset}: ${done} of ${data.length} bytes`);
    if (!this.read(offset, data.length).equals(data)) {
      throw new Error(`${this.info.path}: read-back at ${offset} differs from the ${data.length} bytes just written`);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** One O_DIRECT read of the first block: EINVAL here means the file system took the flag but refuses the I/O. */
  private refusesDirectRead(): boolean {
    const length = this.info.logicalBlockSize;
    try {
      readSync(this.fd, this.aligned, 0, length, 0);
      return false;
    } catch (err) {
      if (errno(err) === 'EINVAL') return true;
      throw ioError(this.info.path, `read of ${length} bytes at 0`, err);
    }
  }

  private window(offset: number, length: number): Buffer {
    const block = this.info.logicalBlockSize;
    if (offset % block !== 0 || length % block !== 0 || length > IO_BUFFER_BYTES) {
      throw new Error(`${this.info.path}: ${length} bytes at ${offset} is not a whole number of ${block}-byte blocks (up to ${IO_BUFFER_BYTES})`);
    }
    return this.aligned.subarray(0, length);
  }
}

/** The longest read from offset 0, up to `maxBytes`, that the device can serve in whole blocks. */
export function leadingBytes(info: SectorDeviceInfo, maxBytes: number): number {
  const available = info.sizeBytes - (info.sizeBytes % info.logicalBlockSize);
  return Math.min(maxBytes, available);
}

type Geometry = Pick<SectorDeviceInfo, 'sizeBytes' | 'logicalBlockSize'>;

/**
 * A block device's size and logical block size come from sysfs (what `blockdev --getsize64 --getss` report; Node
 * has no ioctl); a regular file's size from stat, with 512-byte blocks, which every file system accepts for
 * O_DIRECT on a disk of 512-byte sectors (on a 4Kn disk an I/O of less fails with EINVAL, reported as such).
 */
function deviceGeometry(path: string): Geometry {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw ioError(path, 'stat', err);
  }
  if (st.isFile()) return { sizeBytes: st.size, logicalBlockSize: DEFAULT_LOGICAL_BLOCK };
  if (!st.isBlockDevice()) throw new Error(`${path}: neither a block device nor a regular file`);
  const sysfs = `/sys/dev/block/${major(st.rdev)}:${minor(st.rdev)}`;
  return {
    // Always in 512-byte units, whatever the device's block size.
    sizeBytes: Number(readSysfs(`${sysfs}/size`) ?? 0) * 512,
    // A partition has no queue of its own: its disk's is one level up.
    logicalBlockSize: Number(readSysfs(`${sysfs}/queue/logical_block_size`) ?? readSysfs(`${sysfs}/../queue/logical_block_size`) ?? DEFAULT_LOGICAL_BLOCK),
  };
}

function readSysfs(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

// glibc's encoding of dev_t (gnu_dev_major, gnu_dev_minor).
function major(rdev: number): number {
  const dev = BigInt(rdev);
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

function minor(rdev: number): number {
  const dev = BigInt(rdev);
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function ioError(path: string, what: string, err: unknown): Error {
  return new Error(`${path}: ${what} failed: ${errno(err)}`);
}
