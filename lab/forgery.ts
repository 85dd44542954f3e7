// Forged, relayed and replayed heartbeats from client1 at server1, with the forged source addresses a client can
// use: see forgery-sender.ts for what is sent.
import { readFileSync } from 'node:fs';
import { configPath } from './config.ts';
import { sh, inNetns } from './exec.ts';
import { labPath } from './state.ts';
import { nsName } from './topology.ts';

const SENDER = new URL('./forgery-sender.ts', import.meta.url).pathname;

interface ForgeryNet {
  net: string;
  broadcast: string;
  server1: string;
  server2: string;
  client: string;
}

export interface ForgeryOptions {
  mode: 'attack' | 'replay';
  port: number;
  captureMs: number;
  capturedFile: string;
  pair: string;
  nodes: [string, string];
  /** From the pair's config, as a watcher has it. */
  server2PublicKey: string;
  /** The pair's secret, as if it had leaked: only for the term jump. */
  secretFile: string;
  nets: [ForgeryNet, ForgeryNet];
}

export async function forge(prefix: string, mode: ForgeryOptions['mode']): Promise<Record<string, number>> {
  const server2PublicKey = /server2:\n {4}publicKey: (\S+)/.exec(readFileSync(configPath(prefix, 'server1'), 'utf8'))![1]!;
  const opts: ForgeryOptions = {
    mode, port: 7405, captureMs: 1500, capturedFile: labPath(prefix, 'forgery-captured.json'), pair: 'lab',
    nodes: ['server1', 'server2'], server2PublicKey, secretFile: labPath(prefix, 'secret'),
    nets: [
      { net: '198.51.100.0/24', broadcast: '198.51.100.255', server1: '198.51.100.11', server2: '198.51.100.12', client: '198.51.100.50' },
      { net: '203.0.113.0/24', broadcast: '203.0.113.255', server1: '203.0.113.11', server2: '203.0.113.12', client: '203.0.113.50' },
    ],
  };
  const out = await sh(inNetns(nsName(prefix, 'client1'), [process.execPath, '--import', 'tsx', SENDER, JSON.stringify(opts)]),
    { timeoutMs: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
}
