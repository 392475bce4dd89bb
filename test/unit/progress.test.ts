import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stepTrace } from '../../src/engine/debug.js';
import { newHosts } from '../../src/engine/hosts.js';
import { eachHostListed, progressMode, type ProgressStream } from '../../src/engine/progress.js';
import { runSteps, step, type Step } from '../../src/engine/runner.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { scriptedRemote } from './scripted-remote.js';

const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

/** A stream that keeps what is written to it, a terminal or not as the test says. */
function fakeStream(isTTY: boolean): ProgressStream & { text: () => string } {
  let text = '';
  return { isTTY, write: (s: string) => void (text += s), text: () => text };
}

const connectedHosts = () => {
  const log: string[] = [];
  return newHosts(inv.nodes).map((h) => ({ ...h, remote: scriptedRemote(h.node.name, log) }));
};

/** Three nodes writing two files each, interleaved: what `up` reports while it uploads. */
const writeTwo = async (h: { node: { name: string } }, report: (line: string) => void) => {
  if (h.node.name === 'controller-1') throw new Error('disk full');
  report('wrote /etc/etcd/ca.pem (missing)');
  await new Promise((r) => setTimeout(r, 1));
  report('wrote /etc/etcd/kubernetes.pem (missing)');
  return '2 change(s)';
};

describe('progress per host', () => {
  it('is decided by the stream it is drawn on, not stdout; CI and --json never get a live list', () => {
    expect(progressMode({ write: () => {}, isTTY: true }, {}, false)).toBe('live');
    expect(progressMode({ write: () => {} }, {}, false)).toBe('lines');
    expect(progressMode({ write: () => {}, isTTY: true }, { CI: 'true' }, false)).toBe('lines');
    expect(progressMode({ write: () => {}, isTTY: true }, {}, true)).toBe('silent');
  });

  it('off a terminal, starts every line with its node, the failed one included, and records the failure', async () => {
    const hosts = connectedHosts();
    const stream = fakeStream(false);
    await eachHostListed(hosts, writeTwo, { stream, env: {} });
    const lines = stream.text().trimEnd().split('\n');
    expect(lines.sort()).toEqual([
      'controller-0: 2 change(s)',
      'controller-0: wrote /etc/etcd/ca.pem (missing)',
      'controller-0: wrote /etc/etcd/kubernetes.pem (missing)',
      'controller-1: failed: disk full',
      'controller-2: 2 change(s)',
      'controller-2: wrote /etc/etcd/ca.pem (missing)',
      'controller-2: wrote /etc/etcd/kubernetes.pem (missing)',
    ]);
    expect(hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
    expect(hosts[1]!.outcome.reason).toBe('disk full');
  });

  it('under --json writes nothing, with the same outcomes', async () => {
    const hosts = connectedHosts();
    const stream = fakeStream(false);
    await eachHostListed(hosts, writeTwo, { stream, env: {}, quiet: true });
    expect(stream.text()).toBe('');
    expect(hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
  });

  it('on a terminal draws the live list on that stream, even when stdout is not a terminal', async () => {
    const hosts = connectedHosts();
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 40 });
    let drawn = '';
    stream.on('data', (d: Buffer) => (drawn += d.toString()));
    await eachHostListed(hosts, writeTwo, { stream, env: {} });
    expect(drawn).toContain('controller-0: 2 change(s)');
    expect(drawn).toContain('disk full');
    // Cursor movements: the list is redrawn in place, not appended as lines.
    expect(drawn).toMatch(/\u001b\[/);
    expect(hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
  });
});

describe('HARDWAY_DEBUG', () => {
  const failingCleanUp: Step<object> = { title: 'connect', run: async () => {}, cleanUp: async () => Promise.reject(new Error('socket already closed')) };

  it('traces each step as it starts, with the time since start-up, and every clean-up that failed', async () => {
    const stream = fakeStream(false);
    let t = 100;
    const hooks = stepTrace({ HARDWAY_DEBUG: '1' }, stream, () => (t += 12.4));
    await runSteps({}, [failingCleanUp, step('skipped', async () => {}, () => false), step('observe the nodes', async () => {})], hooks);
    expect(stream.text()).toBe(
      ['debug: 112 ms: step connect', 'debug: 125 ms: step observe the nodes', 'debug: 137 ms: the clean-up of step connect failed: socket already closed', ''].join('\n'),
    );
  });

  it('is silent without HARDWAY_DEBUG', async () => {
    const stream = fakeStream(false);
    await runSteps({}, [failingCleanUp], stepTrace({}, stream));
    expect(stream.text()).toBe('');
  });
});
