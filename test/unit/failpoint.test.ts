import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { failpointAction, failpointNames, parseFailpoints, stepId, type FailpointHooks } from '../../src/engine/failpoint.js';
import { eachHost, newHosts } from '../../src/engine/hosts.js';
import { perHost, runSteps, step, type Step } from '../../src/engine/runner.js';
import type { NodeSpec } from '../../src/inventory/types.js';
import type { Remote } from '../../src/ssh/remote.js';

/** Hooks that record instead of killing: the "kill" throws, so nothing after it in the flow runs (as with SIGKILL). */
function recorder() {
  const killed: string[] = [];
  const listed: string[][] = [];
  const passed: string[] = [];
  const hooks: FailpointHooks = {
    passed(name) {
      passed.push(name);
    },
    kill(name) {
      killed.push(name);
      throw new Error(`killed at ${name}`);
    },
    list(names) {
      listed.push(names);
    },
  };
  return { killed, listed, passed, hooks };
}

function flowOf(seen: string[], titles: string[]): Step<object>[] {
  return titles.map((t) => step<object>(t, async () => void seen.push(t)));
}

const withSpec = (text: string, hooks: FailpointHooks) => ({ spec: parseFailpoints(text), hooks });

describe('failpoint syntax', () => {
  it('is nothing when unset or empty, list alone, and each entry flow:step[@node][:before|:after] with before the default', () => {
    expect(parseFailpoints(undefined)).toEqual({ list: false, points: [] });
    expect(parseFailpoints('')).toEqual({ list: false, points: [] });
    expect(parseFailpoints('list')).toEqual({ list: true });
    expect(parseFailpoints('up:write-files-and-enable, member-remove:remove-the-member:after,up:rolling-restart@controller-1:before')).toEqual({
      list: false,
      points: [
        { flow: 'up', step: 'write-files-and-enable', when: 'before' },
        { flow: 'member-remove', step: 'remove-the-member', when: 'after' },
        { flow: 'up', step: 'rolling-restart', node: 'controller-1', when: 'before' },
      ],
    });
  });

  it('refuses what it cannot read, with the syntax', () => {
    for (const bad of ['up', 'up:plan:during', 'Up:plan', 'up:plan,list', 'up:plan@']) {
      expect(() => parseFailpoints(bad), bad).toThrow(UsageError);
    }
    expect(() => parseFailpoints('up')).toThrow(/<flow>:<step>\[@<node>\]\[:before\|:after\]/);
  });

  it('kills unless HARDWAY_FAILPOINT_ACTION says stop, and refuses any other action', () => {
    expect(failpointAction({})).toBe('kill');
    expect(failpointAction({ HARDWAY_FAILPOINT_ACTION: '' })).toBe('kill');
    expect(failpointAction({ HARDWAY_FAILPOINT_ACTION: 'kill' })).toBe('kill');
    expect(failpointAction({ HARDWAY_FAILPOINT_ACTION: 'stop' })).toBe('stop');
    expect(() => failpointAction({ HARDWAY_FAILPOINT_ACTION: 'pause' })).toThrow(/'pause' is not kill or stop/);
  });

  it("names a step by its title's slug", () => {
    expect(stepId('stop etcd on the node, move its data dir aside')).toBe('stop-etcd-on-the-node-move-its-data-dir-aside');
    expect(stepId('save a pre-remove snapshot')).toBe('save-a-pre-remove-snapshot');
    expect(stepId('  Connect ')).toBe('connect');
  });

  it('lists each step, and the @<node> form of those that go host by host', () => {
    const steps = [step<object>('connect', async () => {}), perHost(step<object>('rolling restart', async () => {}))];
    expect(failpointNames('up', steps)).toEqual(['up:connect', 'up:rolling-restart', 'up:rolling-restart@<node>']);
  });
});

describe('failpoints in the step runner', () => {
  const saved = process.env.HARDWAY_FAILPOINT;
  afterEach(() => {
    if (saved === undefined) delete process.env.HARDWAY_FAILPOINT;
    else process.env.HARDWAY_FAILPOINT = saved;
  });

  it('kills before a step: the steps before it ran, it and the rest did not', async () => {
    const seen: string[] = [];
    const { killed, hooks } = recorder();
    await expect(runSteps({}, flowOf(seen, ['a', 'b', 'c']), { flow: 'f', failpoints: withSpec('f:b', hooks) })).rejects.toThrow('killed at f:b:before');
    expect(killed).toEqual(['f:b:before']);
    expect(seen).toEqual(['a']);
  });

  it('kills after a step: it ran, the next did not', async () => {
    const seen: string[] = [];
    const { killed, hooks } = recorder();
    await expect(runSteps({}, flowOf(seen, ['a', 'b', 'c']), { flow: 'f', failpoints: withSpec('f:b:after', hooks) })).rejects.toThrow();
    expect(killed).toEqual(['f:b:after']);
    expect(seen).toEqual(['a', 'b']);
  });

  it("ignores another flow's points, a skipped step's, and every point in a flow that has no name", async () => {
    const seen: string[] = [];
    const { killed, hooks } = recorder();
    const steps = [...flowOf(seen, ['a']), step<object>('skipped', async () => void seen.push('skipped'), () => false), ...flowOf(seen, ['c'])];
    await runSteps({}, steps, { flow: 'f', failpoints: withSpec('g:a,f:skipped,f:skipped:after', hooks) });
    await runSteps({}, steps, { failpoints: withSpec('f:a', hooks) });
    expect(killed).toEqual([]);
    expect(seen).toEqual(['a', 'c', 'a', 'c']);
  });

  it('does nothing at all when HARDWAY_FAILPOINT is unset', async () => {
    delete process.env.HARDWAY_FAILPOINT;
    const seen: string[] = [];
    await runSteps({}, flowOf(seen, ['a', 'b']), { flow: 'up' });
    expect(seen).toEqual(['a', 'b']);
  });

  it('reads HARDWAY_FAILPOINT when no test hooks are given, and refuses a malformed one before any step', async () => {
    process.env.HARDWAY_FAILPOINT = 'up:a:sometimes';
    const seen: string[] = [];
    await expect(runSteps({}, flowOf(seen, ['a']), { flow: 'up' })).rejects.toThrow(UsageError);
    expect(seen).toEqual([]);
  });

  it('list: hands over the flow\'s points and runs no step', async () => {
    const seen: string[] = [];
    const { listed, hooks } = recorder();
    const steps = [...flowOf(seen, ['connect']), perHost(step<object>('write files', async () => void seen.push('write')))];
    await runSteps({}, steps, { flow: 'up', failpoints: withSpec('list', hooks) });
    expect(listed).toEqual([['up:connect', 'up:write-files', 'up:write-files@<node>']]);
    expect(seen).toEqual([]);
  });

  it("trace: says every point a run passes, a skipped step's none, per host too, and kills where asked", async () => {
    const { passed, killed, hooks } = recorder();
    const hosts = newHosts(['n0', 'n1'].map((name) => ({ name }) as NodeSpec)).map((h) => ({ ...h, remote: {} as Remote }));
    const steps = [
      step<object>('a', async () => {}),
      step<object>('skipped', async () => {}, () => false),
      perHost(step<object>('each', () => eachHost(hosts, async () => {}, { limit: 1 }))),
      step<object>('last', async () => {}),
    ];
    await expect(runSteps({}, steps, { flow: 'f', failpoints: withSpec('trace,f:last:after', hooks) })).rejects.toThrow();
    expect(passed).toEqual(['f:a:before', 'f:a:after', 'f:each:before', 'f:each@n0:before', 'f:each@n0:after', 'f:each@n1:before', 'f:each@n1:after', 'f:each:after', 'f:last:before', 'f:last:after']);
    expect(killed).toEqual(['f:last:after']);
    expect(parseFailpoints('trace')).toEqual({ list: false, points: [], trace: true });
  });

  it('refuses a flow with two steps of the same id', async () => {
    const { hooks } = recorder();
    await expect(runSteps({}, flowOf([], ['ask the cluster', 'Ask the cluster!']), { flow: 'f', failpoints: withSpec('', hooks) })).rejects.toThrow(/two steps named ask-the-cluster/);
  });

  it("kills at one host's part of a per-host step: the hosts before it done, that host's work not begun (or done, with :after)", async () => {
    const nodes = ['n0', 'n1', 'n2'].map((name) => ({ name }) as NodeSpec);
    for (const [spec, name, want] of [
      ['f:work@n1', 'f:work@n1:before', ['n0']],
      ['f:work@n1:after', 'f:work@n1:after', ['n0', 'n1']],
    ] as const) {
      const hosts = newHosts(nodes).map((h) => ({ ...h, remote: {} as Remote }));
      const worked: string[] = [];
      const { killed, hooks } = recorder();
      // The fake kill only throws (eachHost records it as that host's failure); a killed process does nothing more.
      const work = perHost(step<object>('work', () => eachHost(hosts, async (h) => void (killed.length || worked.push(h.node.name)), { limit: 1, barrier: 'work' })));
      await expect(runSteps({}, [work], { flow: 'f', failpoints: withSpec(spec, hooks) })).rejects.toThrow();
      expect(killed).toEqual([name]);
      expect(worked).toEqual(want);
    }
  });
});
