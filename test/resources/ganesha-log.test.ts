import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logSize, startupErrors } from '../../agent/resources/ganesha-log.ts';

const line = (level: string, message: string, fn = 'main') =>
  `21/11/2026 13:48:36 : epoch 6b01a134 : vm : nfs-ganesha-20420[main] ${fn} :NFS STARTUP :${level} :${message}\n`;

test("only this start's serious lines, without dbus noise, on one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-ganesha-log-'));
  try {
    const log = join(dir, 'ganesha.log');
    writeFileSync(log, line('FATAL', 'an earlier run that failed'));
    const from = await logSize(log);
    appendFileSync(log, [
      line('CRIT', 'dbus_bus_get failed (Failed to connect to socket /run/dbus/system_bus_socket)', 'gsh_dbus_pkginit'),
      line('EVENT', 'ganesha.nfsd Starting: Ganesha Version 4.3'),
      line('WARN', 'Missing RADOS URLs backend library', 'load_rados_config'),
      line('WARN', 'Cannot bind NFS tcp6 socket, error 98 (Address already in use)', 'Bind_sockets_V6'),
      line('FATAL', 'Error binding to V6 interface. Cannot continue.', 'Bind_sockets'),
    ].join(''));
    assert.is(await startupErrors(log, from), `its log ${log} says: WARN Missing RADOS URLs backend library | `
      + 'WARN Cannot bind NFS tcp6 socket, error 98 (Address already in use) | FATAL Error binding to V6 interface. Cannot continue.');
    assert.is(await startupErrors(log, await logSize(log)), `nothing in its log ${log}`);
    assert.is(await startupErrors(join(dir, 'none.log'), 0), `no log at ${join(dir, 'none.log')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
