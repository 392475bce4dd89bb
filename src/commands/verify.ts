import { Option, type Command } from 'commander';
import { checkPasses, endCheck, withStrict } from './check-outcome.js';
import { selectNodes } from '../inventory/derive.js';
import { color, formatBytes, info, printJson, println, renderTable } from '../output.js';
import { withHosts } from '../engine/session.js';
import { askFirstHost } from '../etcd/cluster.js';
import { verifyVerdict, type Problem } from '../verify/checks.js';
import { diagnoseJournal, judgeNow, type Finding } from '../journal/diagnose.js';
import { endpointsOf } from '../etcd/etcdctl.js';
import { askEndpoints, gatherFacts } from '../verify/gather.js';
import { gatherCondition } from '../cluster/gather.js';
import { clusterVersion } from '../upgrade/facts.js';
import { mixedVersions } from '../etcd/versions.js';
import { parseJournal } from '../journal/parse.js';
import { transferTerms } from '../journal/elections.js';
import { PERF_LOADS, type PerfLoad, type PerfResult } from '../etcd/perf.js';
import { clientUrl } from '../inventory/derive.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';
import { isWide, MEMBER_WIDE, withWide } from './table-option.js';
import { memberLines, renderMembers, versionsLine, type MemberLine } from '../cluster/members-table.js';
import { checkSecretsAtRest, type EncryptionProblem } from '../keys/verify-encryption.js';
import { checkInstalled, type CertRowView } from '../pki/installed.js';
import { etcdClient } from '../etcd/client.js';
import type { Remote } from '../ssh/remote.js';

type Opts = CommonOptions & { perf?: boolean; load: PerfLoad; acceptNew?: boolean; strict?: boolean; output?: string };

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description('check the cluster: member list, endpoint status and health, quorum, systemd state, the journal (exit 1 on an error; --strict: on a warning too)')
    .option('--perf', 'also run `etcdctl check perf` on one member (takes 60 s)')
    .addOption(new Option('--load <load>', 'check perf load').choices([...PERF_LOADS]).default('s'))
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  withStrict(withWide(withJson(withInventory(cmd)), MEMBER_WIDE)).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    await withHosts(inv, selectNodes(inv).nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
      // The cluster is asked while the nodes are read: `member list` once (the checks' facts and the condition share
      // it), and through the node asked first the cluster version and the secrets at rest, started now and taken
      // when that node is the one that answers for the cluster (the probe).
      const { asked, first } = askFirstHost(inv, run.hosts);
      const early = first && {
        version: clusterVersion(inv, first.remote, first.node),
        secrets: asked.get(first)!.then((m) => (m.code === 0 ? checkSecretsAtRest({ remote: first.remote, endpoints: endpointsOf(inv.nodes) }) : undefined)).catch(() => undefined),
      };
      // The whole cluster's condition leads the report: read beside the checks' facts, over the same connections, and
      // taking the endpoints' health and status the facts asked through the same node instead of asking again.
      // The endpoints too, through the same node once it answered: not after every node's systemd and journal were read.
      const endpoints = first && asked.get(first)!.then((m) => (m.code === 0 ? askEndpoints(inv, first.remote) : Promise.reject(new Error('no answer'))));
      endpoints?.catch(() => {});
      const gathered = gatherFacts(inv, run.hosts, { asked, ...(first && endpoints ? { early: { remote: first.remote, endpoints } } : {}) });
      const answered = async (asker: Remote) => {
        const g = await gathered.catch(() => undefined);
        return g?.probe?.remote === asker ? { health: g.facts.health, status: g.facts.status.flatMap((s) => (s.status ? [s.status] : [])) } : undefined;
      };
      const [{ facts, probe, journals }, { condition }, certs] = await Promise.all([gathered, gatherCondition(inv, run.hosts, { asked, answered }), checkInstalled(inv, run.hosts)]);
      const verdict = verifyVerdict(inv, facts);
      const byFirst = early && probe?.node === first.node ? early : undefined;
      // Each member's server version and the cluster version: a mixed cluster is named (an upgrade not finished).
      const clusterVer = probe ? await (byFirst?.version ?? clusterVersion(inv, probe.remote, probe.node)) : undefined;
      const versionRows = facts.status.map((s) => ({ name: inv.nodes.find((n) => s.endpoint.includes(`//${n.internalIp}:`))?.name ?? s.endpoint, healthy: true, ...(s.status?.version ? { version: s.status.version } : {}) }));
      const mixed = mixedVersions(versionRows, clusterVer);
      if (mixed) verdict.problems.push({ check: 'members', severity: 'warning', message: `mixed versions: ${mixed} ('hardway up' finishes the version change)` });
      // The members as the one member table shows them (members/table.ts), and the same versions line as `member list`.
      const members = memberLines(facts.members ?? [], facts.status.flatMap((s) => (s.status ? [s.status] : [])), { inv });
      const versions = mixed ?? versionsLine(members.length ? members : versionRows.map((v) => ({ id: v.name, name: v.name, ...(v.version ? { version: v.version } : {}) })), clusterVer);
      if (condition.severity !== 'ok') verdict.problems.unshift({ check: 'cluster', severity: condition.severity === 'error' ? 'error' : 'warning', message: `${condition.headline}${condition.fix && !condition.headline.includes(condition.fix) ? ` (fix: ${condition.fix})` : ''}` });
      // The certificates installed on the nodes, read there: expiry, trust between the nodes, SANs, usages, pki.dir's.
      for (const c of certs.problems) verdict.problems.push({ check: 'certs', ...(c.node ? { node: c.node } : {}), severity: c.severity, message: `${c.message} (fix: ${c.fix})` });
      const findings = new Map<string, Finding[]>();
      const parsed = new Map([...journals].map(([node, text]) => [node, parseJournal(text)] as const));
      // A leadership transfer is logged by two members only: the others' journals need it to tell it from an election.
      const transfers = transferTerms([...parsed.values()].flat());
      // A peer the journal says was unreachable, judged by whether its member answers now.
      const peerNow = (id: string): string | false | undefined => {
        const st = facts.status.find((x) => x.status?.memberId === id);
        const h = st && facts.health.find((x) => x.endpoint === st.endpoint);
        return h === undefined ? undefined : h.health ? `member ${id} answers at ${h.endpoint}` : false;
      };
      for (const [node, entries] of parsed) {
        const found = diagnoseJournal(entries, { elections: { transferTerms: transfers }, history: 'live' })
          .map((f) => judgeNow(f, peerNow))
          .filter((f) => f.severity !== 'info');
        findings.set(node, found);
        for (const f of found) {
          verdict.problems.push({ check: 'journal', node, severity: f.severity === 'error' ? 'error' : 'warning', message: `${f.id} ${f.title} (${f.count}×)${f.details[0] ? `: ${f.details[0]}` : ''}` });
        }
      }
      let perf: PerfResult | undefined;
      if (opts.perf && probe) {
        info(`running etcdctl check perf --load=${opts.load} on ${probe.node.name}: this takes 60 s…`);
        const checked = await etcdClient(probe.remote, inv.nodes.map(clientUrl)).checkPerf(opts.load, { timeoutS: 10, waitS: 150 });
        perf = checked.perf;
        if (!perf.pass) verdict.problems.push({ check: 'perf', node: probe.node.name, severity: 'error', message: `check perf failed: ${perf.lines.filter((l) => !l.startsWith('PASS')).join('; ') || checked.reason}` });
      }
      // Secrets at rest, when the cluster has quorum (a read would wait out its timeout otherwise): a problem per
      // unencrypted secret, none when it holds no secret.
      const atRest = facts.members && probe && verdict.quorum.canLose >= 0 ? ((await byFirst?.secrets) ?? (await checkSecretsAtRest({ remote: probe.remote, endpoints: endpointsOf(inv.nodes) }))) : { problems: [] };
      const problems = sortProblems([...verdict.problems, ...atRest.problems]);
      const errors = problems.filter((p) => p.severity === 'error');
      const counts = { errors: errors.length, warnings: problems.length - errors.length };
      if (opts.json) {
        printJson({ ok: checkPasses(counts, opts.strict), condition, ...(clusterVer ? { clusterVersion: clusterVer } : {}), ...(versions ? { versions } : {}), quorum: verdict.quorum, members: facts.members ?? [], status: facts.status, health: facts.health, nodes: facts.nodes, certificates: certs.rows, journal: Object.fromEntries(findings), ...(perf ? { perf } : {}), ...(atRest.report?.total ? { secrets: { total: atRest.report.total, encrypted: atRest.report.encrypted, keys: atRest.report.keys } } : {}), problems });
      } else {
        println(`Cluster: ${condition.headline}${versions ? `\nVersions: ${versions}` : ''}\n`);
        printReport(facts, members, verdict.quorum.text, problems, perf, certs.rows, isWide(opts));
      }
      const failing = checkPasses(counts, opts.strict) ? [] : errors.length ? errors : problems;
      const nodes = [...new Set(failing.map((p) => ('node' in p ? p.node : undefined)).filter(Boolean))];
      endCheck('verify', counts, opts.strict, nodes.length ? `on ${nodes.join(', ')}` : '');
    });
  });
}

function printReport(facts: Awaited<ReturnType<typeof gatherFacts>>['facts'], members: MemberLine[], quorumText: string, problems: (Problem | EncryptionProblem)[], perf?: PerfResult, certs: CertRowView[] = [], wide = false): void {
  println('Members');
  println(renderMembers(members, { wide }));
  println('Endpoint status');
  println(
    renderTable(
      ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'LEADER', 'RAFT TERM', 'RAFT INDEX', 'APPLIED', 'ERRORS'],
      facts.status.map((s) =>
        s.status
          ? [s.endpoint, s.status.memberId, s.status.version, formatBytes(s.status.dbSize), s.status.isLeader ? 'yes' : 'no', s.status.raftTerm, s.status.raftIndex, s.status.raftAppliedIndex, s.status.errors.join('; ')]
          : [s.endpoint, '', '', '', '', '', '', '', s.error ?? ''],
      ),
    ),
  );
  println('Endpoint health');
  println(renderTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], facts.health.map((h) => [h.endpoint, h.health ? 'healthy' : 'UNHEALTHY', h.took, h.error ?? ''])));
  println('systemd');
  println(
    renderTable(
      ['NODE', 'ENABLED', 'ACTIVE', 'RESTARTS', 'UNIT FILE'],
      facts.nodes.map((n) => (n.systemd ? [n.node, n.systemd.enabled, `${n.systemd.active} (${n.systemd.subState})`, n.systemd.restarts, n.systemd.loadState + (n.systemd.badReason ? `: ${n.systemd.badReason}` : '')] : [n.node, '', `unreachable: ${n.error}`, '', ''])),
    ),
  );
  if (certs.length) {
    println('Certificates (read on the nodes)');
    println(
      renderTable(
        ['NODE', 'KUBERNETES.PEM SERIAL', 'ISSUER', 'NOT AFTER', 'DAYS', 'CA.PEM TRUSTS', 'PKI.DIR\'S'],
        certs.map((c) => [
          c.node,
          c.leaf?.serial ?? c.error ?? '-',
          c.leaf?.issuer ?? '',
          c.leaf?.notAfter ?? '',
          c.leaf?.daysLeft ?? '',
          c.trust.map((t) => `${t.ca}, ${t.notAfter} (${t.daysLeft} d)`).join('\n'),
          c.error ? '' : c.local.trust && c.local.leaf && c.local.key ? 'yes' : `no: ${[c.local.trust ? '' : 'ca.pem', c.local.leaf ? '' : 'kubernetes.pem', c.local.key ? '' : 'key'].filter(Boolean).join(', ')}`,
        ]),
      ),
    );
  }
  if (perf) {
    println('check perf');
    for (const l of perf.lines) println(`  ${l}`);
  }
  const aside = facts.nodes.flatMap((n) => (n.asideDirs ?? []).map((d) => `${n.node}: ${d}`));
  if (aside.length) {
    println('Old data dirs (moved aside by a restore or a member removal; hardway never deletes them: remove them once you no longer need them)');
    for (const l of aside) println(`  ${l}`);
  }
  println(`Quorum: ${quorumText}`);
  // Errors (they fail verify) and warnings (they do not, unless --strict) under their own words.
  for (const [severity, word, mark] of [['error', 'Errors', color.red('✗')], ['warning', 'Warnings', color.yellow('!')]] as const) {
    const these = problems.filter((p) => p.severity === severity);
    if (!these.length) continue;
    println(`\n${word} (${these.length}):`);
    for (const p of these) println(`  ${mark} ${'node' in p && p.node ? `${p.node}: ` : ''}[${p.check}] ${p.message}`);
  }
  if (!problems.some((p) => p.severity === 'error')) println(color.green(`\nAll checks passed${problems.length ? ' (with the warnings above)' : ''}.`));
}

/** The checks in the order the report reads (the cluster first), then node and message: the same order every run. */
const CHECK_ORDER = ['cluster', 'quorum', 'ssh', 'systemd', 'members', 'status', 'health', 'certs', 'journal', 'perf'];

function sortProblems<P extends Problem | EncryptionProblem>(problems: P[]): P[] {
  const rank = (p: P): number => {
    const i = CHECK_ORDER.indexOf(p.check);
    return i < 0 ? CHECK_ORDER.length : i;
  };
  const node = (p: P): string => ('node' in p && p.node ? p.node : '');
  return [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) || rank(a) - rank(b) || node(a).localeCompare(node(b)) || a.message.localeCompare(b.message));
}
