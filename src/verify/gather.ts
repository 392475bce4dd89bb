import { clientUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { endpointHealth } from '../provision/health.js';
import type { Connection } from '../ssh/connect.js';
import type { Remote } from '../ssh/remote.js';
import type { ClusterFacts, NodeReport, SystemdState } from './checks.js';
import { etcdctlCommand, parseEndpointStatus, parseMemberList } from './etcdctl.js';

/** Reads what `verify` and `doctor` judge: etcdctl over SSH, systemctl and the journal. */

const UNIT = 'etcd.service';

export const systemdStateScript = [
  `systemctl show -p LoadState -p ActiveState -p SubState -p NRestarts -p UnitFileState ${UNIT}`,
  `echo "IsEnabled=$(systemctl is-enabled ${UNIT} 2>/dev/null)"`,
  // systemd logs its complaints about a unit file (`etcd.service:7: Missing '='…`) as PID 1, at the daemon-reload
  // after the file was written: only those since the file's last change are about the file as it is now.
  `m=$(stat -c %Y /etc/systemd/system/${UNIT} 2>/dev/null || echo 0)`,
  `journalctl _PID=1 --no-pager -o cat --since=@$((m - 2)) 2>/dev/null | grep -E '${UNIT.replace('.', '\\.')}:[0-9]+:' | tail -n 5 | sed 's/^/Complaint=/'`,
].join('\n');

export function parseSystemdState(out: string): SystemdState {
  const kv = new Map<string, string>();
  const complaints: string[] = [];
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    if (k === 'Complaint') complaints.push(v);
    else kv.set(k, v);
  }
  const state: SystemdState = {
    enabled: kv.get('IsEnabled') || kv.get('UnitFileState') || '',
    active: kv.get('ActiveState') ?? '',
    subState: kv.get('SubState') ?? '',
    restarts: Number(kv.get('NRestarts') ?? 0) || 0,
    loadState: kv.get('LoadState') ?? '',
  };
  if (complaints.length) state.badReason = complaints[complaints.length - 1];
  return state;
}

/**
 * The journal that describes the unit as it is now, in `-o json`: etcd's lines since the current run started (when
 * it runs) or since the unit file last changed, and systemd's own lines about the unit over the same span (its
 * complaints about the file since the file changed). A problem that a later `up` repaired is history, not a finding.
 * `sinceSeconds` also caps how far back to look (for counting elections over minutes).
 */
export function journalScript(opts: { sinceSeconds?: number; lines?: number } = {}): string {
  const n = opts.lines ?? 5000;
  return [
    `m=$(stat -c %Y /etc/systemd/system/${UNIT} 2>/dev/null || echo 0)`,
    `since=$m`,
    // --timestamp=unix needs systemd ≥ 248; older ones leave $s empty and the file's mtime rules.
    `s=$(systemctl show -p ExecMainStartTimestamp --timestamp=unix --value ${UNIT} 2>/dev/null | tr -d '@')`,
    `if [ "$(systemctl show -p ActiveState --value ${UNIT})" = active ] && [ -n "$s" ] && [ "$s" -gt "$since" ] 2>/dev/null; then since=$((s - 1)); fi`,
    opts.sinceSeconds ? `w=$(( $(date +%s) - ${opts.sinceSeconds} )); [ "$w" -gt "$since" ] && since=$w` : 'true',
    `journalctl -u ${UNIT} -o json --no-pager -n ${n} --since=@$since 2>/dev/null`,
    `journalctl _PID=1 -o json --no-pager -n 3000 --since=@$((m - 2)) 2>/dev/null | grep -F '${UNIT}' | grep -E '${UNIT.replace('.', '\\.')}:[0-9]+:' | tail -n 100`,
    `journalctl _PID=1 -o json --no-pager -n 3000 --since=@$since 2>/dev/null | grep -F '${UNIT}' | grep -vE '${UNIT.replace('.', '\\.')}:[0-9]+:' | tail -n 200`,
    'true',
  ].join('\n');
}

export async function readJournal(remote: Remote, opts: { sinceSeconds?: number } = {}): Promise<string> {
  const r = await remote.run(journalScript(opts), { timeoutMs: 30_000 });
  return r.stdout;
}

export interface Gathered {
  facts: ClusterFacts;
  /** The node whose etcdctl answered for the cluster. */
  probe?: { node: NodeSpec; remote: Remote };
  journals: Map<string, string>;
}

export async function statusOf(probe: Remote, endpoint: string): Promise<ClusterFacts['status'][number]> {
  const r = await probe.run(etcdctlCommand([endpoint], ['endpoint', 'status', '-w', 'json'], { timeoutS: 8 }), { timeoutMs: 20_000 });
  const s = parseEndpointStatus(r.stdout)[0];
  if (s) return { endpoint, status: s };
  const err = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{')).pop() ?? (r.timedOut ? 'timed out' : `exit ${r.code}`);
  return { endpoint, error: err.replace(/^Failed to get the status of endpoint \S+ /, '').trim() };
}

export async function gatherFacts(inv: Inventory, conns: Connection[], opts: { journal?: boolean } = {}): Promise<Gathered> {
  const journals = new Map<string, string>();
  const nodes: NodeReport[] = await Promise.all(
    conns.map(async (c): Promise<NodeReport> => {
      if ('error' in c) return { node: c.node.name, reachable: false, error: c.error.message };
      try {
        const [sd, journal] = await Promise.all([
          c.remote.run(systemdStateScript, { timeoutMs: 20_000 }),
          opts.journal === false ? Promise.resolve('') : readJournal(c.remote),
        ]);
        journals.set(c.node.name, journal);
        return { node: c.node.name, reachable: true, systemd: parseSystemdState(sd.stdout) };
      } catch (e) {
        return { node: c.node.name, reachable: false, error: (e as Error).message };
      }
    }),
  );
  // Any node with etcdctl can ask every endpoint: prefer one whose etcd runs.
  const candidates = conns.flatMap((c) => ('remote' in c ? [c] : []));
  candidates.sort((a, b) => {
    const active = (n: string) => (nodes.find((x) => x.node === n)?.systemd?.active === 'active' ? 0 : 1);
    return active(a.node.name) - active(b.node.name);
  });
  let members: ClusterFacts['members'];
  let membersError: string | undefined;
  let probe: Gathered['probe'];
  for (const c of candidates) {
    const r = await c.remote.run(etcdctlCommand(inv.nodes.map(clientUrl), ['member', 'list', '-w', 'json'], { timeoutS: 4 }), { timeoutMs: 15_000 });
    if (r.code === 0) {
      members = parseMemberList(r.stdout).members;
      probe = { node: c.node, remote: c.remote };
      break;
    }
    membersError = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{')).pop() ?? `exit ${r.code}`;
  }
  probe ??= candidates[0] ? { node: candidates[0].node, remote: candidates[0].remote } : undefined;
  const [status, health] = probe
    ? await Promise.all([
        Promise.all(inv.nodes.map((n) => statusOf(probe!.remote, clientUrl(n)))),
        // One endpoint per etcdctl: a dead member then cannot delay the others' answers.
        Promise.all(inv.nodes.map(async (n) => (await endpointHealth(probe!.remote, [n]))[0]!)),
      ])
    : [inv.nodes.map((n) => ({ endpoint: clientUrl(n), error: 'no node reachable over SSH' })), []];
  const facts: ClusterFacts = { status, health, nodes, ...(members ? { members } : {}), ...(membersError && !members ? { membersError } : {}) };
  return { facts, ...(probe ? { probe } : {}), journals };
}
