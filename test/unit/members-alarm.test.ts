import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { alarmsInStatusErrors, alarmTable, DEFAULT_QUOTA_BYTES, disarmProblem, parseAlarmList, quotaBytes } from '../../src/members/alarm.js';
import { memberRows } from '../../src/etcd/members.js';
import { diagnoseCluster, withLiveNospace } from '../../src/doctor/cluster.js';
import { inv, member, status } from './members-fakes.js';

// What etcdctl 3.4.23 printed on the lab once the database was full (IDs beyond 2^53).
const ALARM_JSON = '{"header":{"cluster_id":17300217494677100477,"member_id":3075251182142122114,"revision":34,"raft_term":6},"alarms":[{"memberID":14345410872984472670,"alarm":1}]}\n';
const STATUS_ERROR = 'memberID:14345410872984472670 alarm:NOSPACE ';

describe('alarm parsing', () => {
  it('reads alarm list -w json with 64-bit member IDs as hex, and none when there is no alarms key', () => {
    expect(parseAlarmList(ALARM_JSON)).toEqual([{ memberId: 'c715232f09440c5e', alarm: 'NOSPACE' }]);
    expect(parseAlarmList('{"header":{"cluster_id":1,"member_id":2,"revision":3,"raft_term":4}}\n')).toEqual([]);
    expect(parseAlarmList('{"alarms":[{"memberID":160,"alarm":2}]}')).toEqual([{ memberId: 'a0', alarm: 'CORRUPT' }]);
  });

  it('reads the alarms endpoint status reports among its errors', () => {
    expect(alarmsInStatusErrors([STATUS_ERROR, 'something else'])).toEqual([{ memberId: 'c715232f09440c5e', alarm: 'NOSPACE' }]);
  });

  it('names members in the table', () => {
    const rows = memberRows(inv, [member(0)], []);
    expect(alarmTable([{ memberId: 'a0', alarm: 'NOSPACE' }], rows)).toMatch(/^controller-0 {2}a0 {2}NOSPACE$/m);
    expect(alarmTable([], rows)).toBe('no active alarms');
  });
});

describe('quota and disarm', () => {
  const withQuota = (q: string) =>
    validateInventory(`etcd:\n  tarball: /t.tgz\n  extraFlags:\n    quota-backend-bytes: ${q}\nnodes:\n  - name: controller-0\n    address: 10.240.0.10\n`, { file: '/i.yaml' }).inventory!;

  it("takes the inventory's quota-backend-bytes, else etcd's 2 GiB", () => {
    expect(quotaBytes(withQuota('4194304'))).toBe(4194304);
    expect(quotaBytes(withQuota("'8589934592'"))).toBe(8589934592);
    expect(quotaBytes(inv)).toBe(DEFAULT_QUOTA_BYTES);
  });

  const nospace = [{ memberId: 'a2', alarm: 'NOSPACE' }];
  const rowsAt = (sizes: number[]) => memberRows(inv, [member(0), member(1), member(2)], sizes.map((dbSize, i) => status(i, 0, 100, { dbSize })));

  it('refuses NOSPACE while a database is still at 90 % of the quota or more, with the sizes and the fix', () => {
    const why = disarmProblem(nospace, rowsAt([4_042_752, 100_000, 4_157_440]), 4_194_304);
    expect(why).toMatch(/^not disarming NOSPACE: controller-0's database is 4\.0 MB, 96 % of the 4\.2 MB quota; controller-2's database is 4\.2 MB, 99 % of the 4\.2 MB quota: etcd would raise the alarm again/);
    expect(why).toMatch(/First compact .*hardway defrag/);
    expect(disarmProblem(nospace, rowsAt([120_000, 123_000, 3_700_000]), 4_194_304)).toBeUndefined();
  });

  it('refuses while a member does not answer (its size unknown), and always for CORRUPT', () => {
    const rows = memberRows(inv, [member(0), member(1)], [status(0, 0, 100, { dbSize: 1000 })]);
    expect(disarmProblem(nospace, rows, 4_194_304)).toMatch(/controller-1 \(a1\) does not answer, so its size is unknown/);
    expect(disarmProblem([{ memberId: 'a1', alarm: 'CORRUPT' }], rowsAt([1, 1, 1]), 4_194_304)).toMatch(/^not disarming: CORRUPT on a1/);
  });
});

describe('doctor and NOSPACE', () => {
  const sample = (errors: string[]) => ({ at: new Date(), status: [0, 1, 2].map((i) => status(i, 0, 100, { errors, memberId: i === 2 ? 'c715232f09440c5e' : `a${i}` })) });

  it('names an active NOSPACE alarm from endpoint status, by member, with the fix in order', () => {
    const [f] = diagnoseCluster(inv, { members: [], statusSamples: [sample([STATUS_ERROR])], pkiProblems: [] });
    expect(f).toMatchObject({ id: 'SPACE-01', severity: 'error', title: 'Database space exceeded: NOSPACE alarm active', hosts: ['controller-0', 'controller-1', 'controller-2'] });
    expect(f!.details[0]).toMatch(/^raised by controller-2 \(c715232f09440c5e\)/);
    const steps = ['compact', 'hardway defrag', 'hardway alarm disarm', 'hardway etcdctl -- put'].map((s) => f!.fix.indexOf(s));
    expect(steps.every((at, i) => at >= 0 && (i === 0 || at > steps[i - 1]!))).toBe(true);
  });

  it("keeps the journal's lines as evidence of the one finding, and adds nothing without the alarm", () => {
    const journal = { id: 'SPACE-01', severity: 'error' as const, title: 'Database space exceeded (NOSPACE alarm)', count: 1, hosts: ['controller-1'], evidence: ['etcd[1]: alarm NOSPACE raised by peer c715232f09440c5e'], facts: {}, details: [], meaning: 'm', fix: 'f' };
    const merged = withLiveNospace(inv, [journal], { statusSamples: [sample([STATUS_ERROR])] });
    expect(merged).toHaveLength(1);
    expect(merged[0]!.evidence.at(-1)).toBe(journal.evidence[0]);
    expect(withLiveNospace(inv, [journal], { statusSamples: [sample([])] })).toEqual([journal]);
  });
});
