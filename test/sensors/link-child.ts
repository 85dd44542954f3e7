// Run by link-state.test.ts inside a test namespace: a LinkWatcher over the networks in argv[2] (JSON array of
// { net, iface }). Each line on stdin is answered with one JSON line: the changes and each interface's operstate.
import { createInterface } from 'node:readline';
import { LinkWatcher, readOperstate } from '../../agent/sensors/link-state.ts';
import { isMain } from './netns-pair.ts';

function main(networks: Array<{ net: string; iface: string }>): void {
  const watcher = new LinkWatcher(networks);
  createInterface({ input: process.stdin }).on('line', () => {
    const operstate = Object.fromEntries(networks.map(({ iface }) => [iface, readOperstate(iface)]));
    console.log(JSON.stringify({ changes: watcher.poll(), operstate }));
  });
}

if (isMain(import.meta.url)) main(JSON.parse(process.argv[2]!) as Array<{ net: string; iface: string }>);
