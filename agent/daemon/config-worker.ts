// The configuration thread's body (config-thread.ts): loads and checks the pair's configuration, picks this node,
// and posts back the configuration or the one message that says what is wrong with it.
import { parentPort, workerData } from 'node:worker_threads';
import { formatConfigError } from '../../config/errors.ts';
import { loadConfig, selectNode } from '../../config/load.ts';
import type { ConfigRequest, LoadedPair } from './config-thread.ts';

const { path, node, hostname } = workerData as ConfigRequest;

async function load(): Promise<LoadedPair> {
  const loaded = await loadConfig(path);
  if (!loaded.ok) return { ok: false, error: `invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}` };
  const chosen = selectNode(loaded.config, node, hostname);
  if (!chosen.ok) return { ok: false, error: chosen.error };
  return { ok: true, config: loaded.config, self: chosen.self.name };
}

parentPort!.postMessage(await load().catch((err: Error): LoadedPair => ({ ok: false, error: err.message, unexpected: true })));
