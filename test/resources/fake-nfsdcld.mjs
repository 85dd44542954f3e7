// A stand-in for nfsdcld in the knfsd profile's tests (the real one needs a kernel NFS server): run as
// `node fake-nfsdcld.mjs STATE_DIR PIPE [never]`. It watches STATE_DIR (an inotify descriptor, as nfsdcld's watch for
// the kernel's pipe), then holds PIPE open as nfsdcld holds the kernel's pipe once the server uses it; with `never`
// it never does, as when the kernel server tracks its clients some other way. It runs until it is signalled.
import { openSync, watch } from 'node:fs';

const [stateDir, pipe, never] = process.argv.slice(2);
watch(stateDir);
if (never !== 'never') setTimeout(() => openSync(pipe, 'a'), 100);
setInterval(() => {}, 60_000);
