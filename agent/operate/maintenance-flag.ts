// Maintenance outlives a restart of the agent: an operator at work on the pair must not have failover come back
// because the agent was upgraded or crashed meanwhile. A file in stateDir says it is on.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class MaintenanceFlag {
  readonly path: string;

  constructor(stateDir: string, pair: string, node: string) {
    this.path = join(stateDir, `${pair}-${node}.maintenance`);
  }

  async isOn(): Promise<boolean> {
    try {
      await stat(this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async set(on: boolean): Promise<void> {
    if (!on) return rm(this.path, { force: true });
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    await writeFile(this.path, `maintenance on since ${new Date().toISOString()}\n`, { mode: 0o600 });
  }
}
