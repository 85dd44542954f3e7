// The metrics endpoint on a real HTTP socket (loopback), over two controllers paired in memory (pair.ts).
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Controller } from '../../agent/daemon/controller.ts';
import { AgentMetrics } from '../../agent/operate/metrics.ts';
import { serveMetrics } from '../../agent/operate/metrics-server.ts';
import { Timeline } from '../../agent/operate/timeline.ts';
import { coreConfig, pair, until } from '../daemon/pair.ts';
import { sample } from './prometheus-text.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}


test('metrics: phase, detector, heartbeats, resources, and a takeover with its duration', async () => {
  const timeline = new Timeline();
  const p = pair([[timeline], []]);
  const [alpha, beta] = p.controllers as [Controller, Controller];
  const metrics = new AgentMetrics({
    core: coreConfig(0), snapshot: () => alpha.snapshot(), traffic: () => p.transports[0]!.traffic(), drops: () => p.transports[0]!.drops(),
  });
  timeline.onEntry((e) => metrics.timelineEntry(e));
  const port = await freePort();
  const server = await serveMetrics(`127.0.0.1:${port}`, metrics, () => {});
  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  try {
    await Promise.all(p.controllers.map((c) => c.start()));
    await until(() => p.controllers.every((c) => c.snapshot().state.phase === 'normal'), 3000);
    metrics.observeRtt('a', 0.4);
    metrics.commandRan({ argv: ['/usr/sbin/ip', 'addr'], code: 0, signal: null, stdout: '', stderr: '', durationMs: 12, timedOut: false, dryRun: false });
    let text = await scrape();
    assert.is(sample(text, 'hanfs_phase', 'phase="normal"'), 1);
    assert.is(sample(text, 'hanfs_phase', 'phase="fenced"'), 0);
    assert.is(sample(text, 'hanfs_detector_stage', 'stage="watching"'), 1);
    assert.ok(sample(text, 'hanfs_heartbeats_sent_total', 'net="a"')! > 0);
    assert.is(sample(text, 'hanfs_heartbeats_dropped_total', 'reason="hmac"'), 0);
    assert.is(sample(text, 'hanfs_heartbeat_rtt_seconds_count', 'net="a"'), 1);
    assert.is(sample(text, 'hanfs_resource_state', 'group="alpha",resource="nfs_server",state="online"'), 1);
    assert.is(sample(text, 'hanfs_command_duration_seconds_count', 'command="ip",outcome="ok"'), 1);
    assert.ok(sample(text, 'hanfs_lease_age_seconds', 'node="alpha"')! < 0.6);
    assert.match(text, /nodejs_eventloop_lag_seconds/);

    await beta.stop();
    p.up[1] = false;
    await until(() => alpha.snapshot().state.phase === 'serving_both', 5000);
    text = await scrape();
    assert.is(sample(text, 'hanfs_moves_total', 'move="takeover",outcome="completed"'), 1);
    assert.is(sample(text, 'hanfs_move_duration_seconds_count', 'move="takeover"'), 1);
    assert.is(sample(text, 'hanfs_resource_operation_duration_seconds_count', 'group="beta",resource="service_ip",op="start",result="ok"'), 1);
    assert.is(sample(text, 'hanfs_phase', 'phase="serving_both"'), 1);

    const other = await fetch(`http://127.0.0.1:${port}/`);
    assert.is(other.status, 404);
  } finally {
    server.close();
    await Promise.all(p.controllers.map((c) => c.stop()));
  }
});

test('metrics.listen that cannot be had fails loudly', async () => {
  const port = await freePort();
  const metrics = new AgentMetrics({
    core: coreConfig(0), snapshot: () => { throw new Error('unused'); }, traffic: () => ({}), drops: () => ({} as never),
  });
  const first = await serveMetrics(`127.0.0.1:${port}`, metrics, () => {});
  let error = '';
  await serveMetrics(`127.0.0.1:${port}`, metrics, () => {}).catch((e: Error) => (error = e.message));
  first.close();
  assert.is(error, `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`);
});

test.run();
