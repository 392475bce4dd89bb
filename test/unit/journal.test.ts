import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryLine, formatTime, isJournalShaped, looksBinary, parseIsoTime, parseJournal, parseJournalLine, parsePayload } from '../../src/journal/parse.js';

const FIX = path.join(import.meta.dirname, '../fixtures/journal');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');

describe('parseJournal: journalctl short formats', () => {
  it('reads `short` lines: time (with the given year), host, ident, pid, journald message', () => {
    const [e] = parseJournal(
      'Nov 23 10:17:52 controller-1 etcd[493]: published {Name:controller-1 ClientURLs:[https://10.240.0.11:2379]} to cluster 54fde54459049788',
      { year: 2026, file: 'j.txt' },
    );
    expect(e).toMatchObject({
      host: 'controller-1',
      ident: 'etcd',
      pid: 493,
      source: 'etcd',
      format: 'journald',
      envelope: 'short',
      file: 'j.txt',
      line: 1,
      message: 'published {Name:controller-1 ClientURLs:[https://10.240.0.11:2379]} to cluster 54fde54459049788',
    });
    expect(e!.time!.toISOString()).toBe('2026-11-23T10:17:52.000Z');
  });

  it('defaults the year of year-less timestamps to the current year', () => {
    const [e] = parseJournal('Nov 23 10:17:52 controller-1 etcd[493]: x');
    expect(e!.time!.getUTCFullYear()).toBe(new Date().getFullYear());
  });

  it('reads short-precise, short-iso, short-iso-precise, short-full and short-unix timestamps', () => {
    const lines = [
      'Nov 23 10:17:52.123456 controller-1 etcd[493]: a',
      '2026-11-23T10:17:52+0000 controller-1 etcd[493]: b',
      '2026-11-23T11:17:52.250000+01:00 controller-1 etcd[493]: c',
      'Mon 2026-11-23 10:17:52 UTC controller-1 etcd[493]: d',
      '1795428472.5 controller-1 etcd[493]: e',
    ];
    const es = parseJournal(lines.join('\n'), { year: 2026 });
    expect(es.map((e) => e.message)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(es.map((e) => e.time?.toISOString())).toEqual([
      '2026-11-23T10:17:52.123Z',
      '2026-11-23T10:17:52.000Z',
      '2026-11-23T10:17:52.250Z',
      '2026-11-23T10:17:52.000Z',
      '2026-11-23T10:07:52.500Z',
    ]);
    expect(es.every((e) => e.host === 'controller-1' && e.ident === 'etcd' && e.pid === 493)).toBe(true);
  });

  it('reads short-monotonic lines (no wall clock) and treats PID 1 as systemd', () => {
    const [e] = parseJournal('[   12.345678] controller-0 systemd[1]: etcd.service: Main process exited, code=exited, status=1/FAILURE');
    expect(e).toMatchObject({ host: 'controller-0', ident: 'systemd', pid: 1, source: 'systemd', envelope: 'short' });
    expect(e!.time).toBeUndefined();
    expect(parseJournal('Nov 23 10:00:00 h init[1]: x')[0]!.source).toBe('systemd');
  });

  it('steps the year on a December → January rollover', () => {
    const es = parseJournal('Dec 31 23:59:59 h etcd[1]: a\nJan 01 00:00:01 h etcd[1]: b', { year: 2025 });
    expect(es.map((e) => e.time?.toISOString())).toEqual(['2025-12-31T23:59:59.000Z', '2026-01-01T00:00:01.000Z']);
  });

  it('classifies systemd[1], etcd, the lab wrapper (strace) and other programs', () => {
    const es = parseJournal(
      [
        "Nov 23 10:02:11 controller-0 systemd[1]: /etc/systemd/system/etcd.service:8: Missing '=', ignoring line.",
        'Nov 23 09:55:41 controller-1 strace[812]: 2026-11-23 09:55:41.962700 W | wal: sync duration of 1.200572091s, expected less than 1s',
        'Nov 23 09:55:30 controller-1 hw-slowdisk[801]: hw-slowdisk: fdatasync +1200000us for: /usr/local/bin/etcd',
        'Nov 23 08:01:10 web-1 nginx[812]: nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)',
        'Nov 23 08:03:00 web-1 kernel: EXT4-fs (sda1): re-mounted.',
        'Nov 23 08:04:00 web-1 coredns[1500]: {"level":"error","ts":"2026-11-23T08:04:00.000Z","caller":"plugin/forward/forward.go:10","msg":"failed to start"}',
        'Nov 23 08:04:00 h some-wrapper[9]: {"level":"warn","ts":"2024-05-03T02:41:20.123456Z","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"1.2s"}',
      ].join('\n'),
      { year: 2026 },
    );
    expect(es.map((e) => [e.ident, e.source])).toEqual([
      ['systemd', 'systemd'],
      ['strace', 'etcd'],
      ['hw-slowdisk', 'etcd'],
      ['nginx', 'other'],
      ['kernel', 'other'],
      ['coredns', 'other'],
      ['some-wrapper', 'etcd'],
    ]);
    expect(es[4]!.pid).toBeUndefined();
  });

  it('skips blank lines and journalctl markers (-- Logs begin --, -- Boot --, -x catalog text)', () => {
    const es = parseJournal(
      [
        '-- Logs begin at Mon 2026-11-23 07:58:00 UTC, end at Mon 2026-11-23 08:30:00 UTC. --',
        '',
        'Nov 23 10:00:00 h etcd[1]: a',
        '-- Boot 2d8d5c1f0b3e4a7b8c9d0e1f2a3b4c5d --',
        '░░ Subject: A start job for unit etcd.service has failed',
        '-- Subject: Unit etcd.service has failed',
        '\r',
        'Nov 23 10:00:01 h etcd[1]: b\r',
      ].join('\n'),
      { year: 2026 },
    );
    expect(es.map((e) => e.message)).toEqual(['a', 'b']);
    expect(es.map((e) => e.line)).toEqual([3, 8]);
  });

  it('keeps lines it cannot place as plain text of unknown origin (never throws)', () => {
    const es = parseJournal('# systemctl enable etcd\nFailed to enable unit: File etcd.service: Invalid argument\n{not json', {
      year: 2026,
    });
    expect(es).toHaveLength(3);
    expect(es[0]).toMatchObject({ ident: '', source: 'other', format: 'text', envelope: 'none' });
    expect(es[1]).toMatchObject({ ident: '', source: 'systemd', message: 'Failed to enable unit: File etcd.service: Invalid argument' });
    expect(es[2]!.message).toBe('{not json');
  });
});

describe('parsePayload: the inner etcd formats', () => {
  it('capnslog pretty: level, package, message, its own time', () => {
    const p = parsePayload('2026-11-23 09:55:41.962700 W | wal: sync duration of 1.200572091s, expected less than 1s');
    expect(p).toMatchObject({ format: 'capnslog', level: 'warning', package: 'wal', message: 'sync duration of 1.200572091s, expected less than 1s' });
    expect(p.time?.toISOString()).toBe('2026-11-23T09:55:41.962Z');
    expect(parsePayload('2026-11-23 10:16:59.367538 E | etcdmain: open /etc/etcd/kubernetes.pem: no such file or directory')).toMatchObject({
      level: 'error',
      package: 'etcdmain',
      message: 'open /etc/etcd/kubernetes.pem: no such file or directory',
    });
  });

  it('raft default logger lines, with and without a level header', () => {
    expect(parsePayload('raft2026/11/23 10:17:52 INFO: raft.node: eed2010be9a63041 elected leader 1ec55d2fb473165c at term 2')).toMatchObject({
      format: 'raft',
      level: 'info',
      message: 'raft.node: eed2010be9a63041 elected leader 1ec55d2fb473165c at term 2',
    });
    expect(parsePayload('raft2026/11/23 10:18:41 WARN: b71f75320dc06a6c (leader true) A tick missed to fire. Node blocks too long!').level).toBe('warning');
    expect(parsePayload('raft2026/11/23 10:17:31 tocommit(6) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?')).toMatchObject({
      format: 'raft',
      level: 'panic',
    });
  });

  it('zap JSON: msg as message, all keys as fields, level and ts (ISO or epoch seconds)', () => {
    const p = parsePayload('{"level":"warn","ts":"2024-05-03T02:41:10.123456Z","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"1.234s","expected-duration":"1s"}');
    expect(p).toMatchObject({ format: 'zap', level: 'warning', message: 'slow fdatasync' });
    expect(p.fields).toMatchObject({ took: '1.234s', 'expected-duration': '1s', caller: 'wal/wal.go:805' });
    expect(p.time?.toISOString()).toBe('2024-05-03T02:41:10.123Z');
    expect(parsePayload('{"level":"info","ts":1726459074.9597218,"caller":"snapshot/v3_snapshot.go:119","msg":"created temporary db file"}').time?.toISOString()).toBe(
      '2024-09-16T03:57:54.960Z',
    );
    expect(parsePayload('{"level":"info","ts":"2024-09-16T12:57:54.988563+0900","msg":"x"}').time?.toISOString()).toBe('2024-09-16T03:57:54.988Z');
  });

  it('3.6 console format (tab-separated) and etcdutl-style output', () => {
    const p = parsePayload('2024-05-03T02:41:10.123456Z\twarn\twal/wal.go:846\tslow fdatasync\t{"took": "1.234s", "expected-duration": "1s"}');
    expect(p).toMatchObject({ format: 'console', level: 'warning', message: 'slow fdatasync' });
    expect(p.fields).toMatchObject({ took: '1.234s', caller: 'wal/wal.go:846' });
    const r = parsePayload('2024-05-03T02:41:10.123456Z\tinfo\traft\tv3@v3.6.0/raft.go:988\t8e9e05c52164694d is starting a new election at term 1');
    expect(r).toMatchObject({ format: 'console', message: '8e9e05c52164694d is starting a new election at term 1' });
    expect(r.fields).toMatchObject({ logger: 'raft' });
  });

  it('anything else is the journald body as is', () => {
    expect(parsePayload("[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead")).toMatchObject({ format: 'journald' });
  });
});

describe('parseJournal: journalctl -o json', () => {
  it('reads MESSAGE (also as a byte array), PRIORITY, identifiers, units and the realtime timestamp', () => {
    const es = parseJournal(fixture('etcd34.journal.json'));
    expect(es).toHaveLength(18);
    const missing = es[0]!;
    expect(missing).toMatchObject({ ident: 'systemd', pid: 1, source: 'systemd', envelope: 'json', level: 'warning', host: 'controller-0' });
    expect(missing.time?.toISOString()).toBe('2026-11-23T10:02:11.000Z');
    const fatal = es.find((e) => e.message.startsWith('open /etc/etcd'))!;
    expect(fatal).toMatchObject({ source: 'etcd', level: 'critical', package: 'etcdmain', unit: 'etcd.service' });
    const bytes = es.find((e) => e.message === 'sync duration of 1.5s, expected less than 1s');
    expect(bytes).toBeDefined();
    const raft = es.find((e) => e.format === 'raft')!;
    expect(raft.message).toBe('eed2010be9a63041 is starting a new election at term 1');
    const strace = es.find((e) => e.ident === 'strace')!;
    expect(strace).toMatchObject({ source: 'etcd', format: 'capnslog', level: 'warning', package: 'wal' });
    expect(es[es.length - 1]).toMatchObject({ ident: 'sshd', source: 'other' });
    expect(entryLine(missing)).toBe("2026-11-23 10:02:11 controller-0 systemd[1]: /etc/systemd/system/etcd.service:8: Missing '=', ignoring line.");
  });

  it('reads zap JSON inside MESSAGE (etcd 3.5 under systemd)', () => {
    const es = parseJournal(fixture('etcd35.journal.json'));
    expect(es.every((e) => e.format === 'zap' && e.source === 'etcd')).toBe(true);
    expect(es[1]).toMatchObject({ message: 'slow fdatasync', level: 'warning' });
    expect(es[1]!.fields).toMatchObject({ took: '1.234s' });
    // The journal's timestamp wins over zap's ts: one clock for etcd and systemd lines.
    expect(es[1]!.time?.toISOString()).toBe('2024-05-03T02:41:20.123Z');
  });

  it('reads -o json-pretty, -o json-seq and a JSON array (jq -s)', () => {
    const obj = { __REALTIME_TIMESTAMP: '1795428131000100', _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'etcd', _PID: '7', MESSAGE: 'sync duration of 2s, expected less than 1s' };
    const pretty = JSON.stringify(obj, null, '\t');
    const seq = `\u001e${JSON.stringify(obj)}`;
    for (const text of [`${pretty}\n${pretty}\n`, `${seq}\n${seq}\n`, JSON.stringify([obj, obj])]) {
      const es = parseJournal(text);
      expect(es).toHaveLength(2);
      expect(es[0]).toMatchObject({ ident: 'etcd', pid: 7, host: 'h', source: 'etcd', message: obj.MESSAGE });
    }
  });
});

describe('helpers', () => {
  it('parseIsoTime and formatTime', () => {
    expect(parseIsoTime('2026-11-23T10:17:52.5Z')?.toISOString()).toBe('2026-11-23T10:17:52.500Z');
    expect(parseIsoTime('2026-11-23T10:17:52-0130')?.toISOString()).toBe('2026-11-23T11:47:52.000Z');
    expect(parseIsoTime('nope')).toBeUndefined();
    expect(formatTime(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02 03:04:05');
    expect(formatTime(undefined)).toBe('');
  });

  it('parseJournalLine returns undefined for blank lines', () => {
    expect(parseJournalLine('   ')).toBeUndefined();
    expect(parseJournalLine('x')?.message).toBe('x');
  });

  it('parses every fixture without losing a non-blank line', () => {
    for (const f of ['catalog-34.short.txt', 'catalog-35.zap.short.txt', 'etcd34-election-loop.short.txt', 'unrelated.short.txt']) {
      const text = fixture(f);
      const nonBlank = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-- ')).length;
      expect(parseJournal(text, { year: 2026 })).toHaveLength(nonBlank);
    }
  });
});

describe("whose line it is", () => {
  const capnslog = (pkg: string) => `2026-11-23 10:00:00.123456 I | ${pkg}: published {Name:controller-0}`;
  const zap = (caller?: string) => JSON.stringify({ level: 'info', ts: '2026-11-23T10:00:00.000Z', ...(caller ? { caller } : {}), msg: 'x' });
  const raft = 'raft2026/11/23 10:00:00 INFO: b71f75320dc06a6c became leader at term 2';
  const consoleLine = '2026-11-23T10:00:00.000Z\tinfo\tetcdserver/server.go:1\tx';
  const bare = (p: string) => parseJournal(p, { year: 2026 })[0]!.source;
  const under = (ident: string, p: string) => parseJournal(`Nov 23 10:00:00 n1 ${ident}[5]: ${p}`, { year: 2026 })[0]!.source;
  const ofUnit = (p: string, unit: string, pid = '9', ident = 'sh') =>
    parseJournal(JSON.stringify({ __REALTIME_TIMESTAMP: '1700000000000000', _HOSTNAME: 'n1', SYSLOG_IDENTIFIER: ident, _PID: pid, _SYSTEMD_UNIT: unit, MESSAGE: p }), { year: 2026 })[0]!.source;

  it("judges a bare payload (journalctl -o cat, pasted stderr) by its shape: etcd's loggers, systemd's words, or other", () => {
    expect([capnslog('etcdserver'), raft, zap('etcdserver/server.go:1'), consoleLine].map(bare)).toEqual(['etcd', 'etcd', 'etcd', 'etcd']);
    // zap without a caller is any Go program's.
    expect(bare(zap())).toBe('other');
    expect(bare('etcd.service: Main process exited, code=exited, status=1/FAILURE')).toBe('systemd');
    expect(bare("/etc/systemd/system/etcd.service:8: Missing '=', ignoring line.")).toBe('systemd');
    expect(bare('hello')).toBe('other');
  });

  it("takes a line under another identifier for etcd's only when its payload is unmistakably etcd's", () => {
    expect(under('wrapper', raft)).toBe('etcd');
    expect(under('wrapper', capnslog('etcdserver'))).toBe('etcd');
    expect(under('wrapper', capnslog('foo'))).toBe('other');
    expect(under('wrapper', zap('etcdserver/server.go:1'))).toBe('etcd');
    expect(under('wrapper', zap('main.go:1'))).toBe('other');
    expect(under('wrapper', zap())).toBe('other');
    expect(under('wrapper', 'etcd.service: Main process exited')).toBe('other');
    // etcd's own names, and the lab's slow-disk wrapper.
    for (const ident of ['etcd', 'etcd-3.5', 'strace', 'hw-slowdisk']) expect(under(ident, 'hello'), ident).toBe('etcd');
    expect(under('systemd', raft)).toBe('systemd');
  });

  it("takes what the etcd unit's processes log for etcd's, and PID 1's lines about the unit for systemd's", () => {
    expect(ofUnit('hello', 'etcd.service')).toBe('etcd');
    expect(ofUnit('hello', 'etcd.service', '1', 'systemd')).toBe('systemd');
    expect(ofUnit('hello', 'etcd.service', '1', 'init')).toBe('systemd');
    expect(ofUnit('hello', 'etcd.service', '7', 'systemctl')).toBe('other');
    expect(ofUnit('hello', 'nginx.service')).toBe('other');
  });
});

describe('parseIsoTime', () => {
  it('reads a zone as Z, ±hh:mm or ±hhmm, a space for the T, fractions; nothing before or after the time', () => {
    expect(parseIsoTime('2026-11-23T10:00:00Z')?.toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(parseIsoTime('2026-11-23 10:00:00.25+01:30')?.toISOString()).toBe('2026-11-23T08:30:00.250Z');
    expect(parseIsoTime('2026-11-23T10:00:00-0200')?.toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(parseIsoTime('  2026-11-23T10:00:00Z  ')?.toISOString()).toBe('2026-11-23T10:00:00.000Z');
    for (const bad of ['x2026-11-23T10:00:00Z', '2026-11-23T10:00:00Zx', '2026-11-23T10:00', '2026-11-23T10:00:00+1', 'yesterday']) expect(parseIsoTime(bad), bad).toBeUndefined();
  });
});

describe('-o json objects, field by field', () => {
  const one = (o: Record<string, unknown>) => parseJournal(JSON.stringify(o))[0]!;

  it('takes the first of the fields journald may use for each fact, and leaves out what none of them gives', () => {
    const e = one({ MESSAGE: 'hello', _SOURCE_REALTIME_TIMESTAMP: '1795428131999999', _COMM: 'etcd', SYSLOG_PID: '42', USER_UNIT: 'etcd.service', PRIORITY: '3', PACKAGE: 'wal', __CURSOR: 's=1' });
    expect(e).toMatchObject({ message: 'hello', ident: 'etcd', pid: 42, unit: 'etcd.service', level: 'error', package: 'wal', cursor: 's=1', envelope: 'json' });
    expect(e.time?.getTime()).toBe(1795428131999);
    const bare = one({ MESSAGE: 'hello', __REALTIME_TIMESTAMP: 'soon', _PID: 'x', PRIORITY: '9' });
    expect(bare).toMatchObject({ ident: '', source: 'other' });
    for (const k of ['time', 'pid', 'level', 'host', 'unit', 'cursor', 'package']) expect(bare, k).not.toHaveProperty(k);
    expect(one({ SYSLOG_IDENTIFIER: 'etcd', _SYSTEMD_UNIT: 'etcd.service', UNIT: 'other.service' }).unit).toBe('other.service');
    expect(one({ SYSLOG_IDENTIFIER: 'etcd' }).message).toBe('');
  });

  it('a repeated field is its values joined by newlines; a byte array is UTF-8; a number is its digits', () => {
    expect(one({ MESSAGE: ['first', 'second'], SYSLOG_IDENTIFIER: 'etcd' }).message).toBe('first\nsecond');
    expect(one({ MESSAGE: [...Buffer.from('héllo')], SYSLOG_IDENTIFIER: 'etcd' }).message).toBe('héllo');
    expect(one({ MESSAGE: 'x', _PID: 7, SYSLOG_IDENTIFIER: 'etcd' }).pid).toBe(7);
    expect(one({ MESSAGE: [{ a: 1 }], SYSLOG_IDENTIFIER: 'etcd' }).message).toBe('');
  });

  it('an object is a journal entry only with a field journald writes; other JSON is a payload', () => {
    expect(parseJournal('{"msg":"slow fdatasync","level":"warn","caller":"wal/wal.go:1"}')[0]).toMatchObject({ envelope: 'none', format: 'zap', source: 'etcd' });
    for (const k of ['MESSAGE', '__REALTIME_TIMESTAMP', '__CURSOR', 'SYSLOG_IDENTIFIER', '_PID']) expect(parseJournal(JSON.stringify({ [k]: '1' }))[0]!.envelope, k).toBe('json');
    expect(parseJournal('[{"a":1},{"b":2}]')[0]).toMatchObject({ envelope: 'none', format: 'text' });
    expect(parseJournal('[]')).toHaveLength(1);
  });

  it('the same entry twice (same cursor, time and message) is kept once; another message under that cursor is kept', () => {
    const o = { __CURSOR: 'c1', __REALTIME_TIMESTAMP: '1795428131000000', MESSAGE: 'a', SYSLOG_IDENTIFIER: 'etcd' };
    expect(parseJournal([o, o, { ...o, MESSAGE: 'b' }, { ...o, __REALTIME_TIMESTAMP: '1795428132000000' }].map((x) => JSON.stringify(x)).join('\n')).map((e) => e.message)).toEqual(['a', 'b', 'a']);
  });

  it('a -o json-pretty block that never closes is read line by line', () => {
    const es = parseJournal('{\n  "MESSAGE": "x"\n');
    expect(es.map((e) => e.envelope)).toEqual(['none', 'none']);
  });

  it("reads as one line an entry of -o json: time, host, ident[pid], and a zap payload's fields", () => {
    const zap = one({ __REALTIME_TIMESTAMP: '1795428131000000', _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'etcd', MESSAGE: '{"level":"warn","msg":"slow"}' });
    expect(entryLine(zap)).toBe('2026-11-23 10:02:11 h etcd: {"level":"warn","msg":"slow"}');
    expect(entryLine(one({ MESSAGE: 'plain' }))).toBe('plain');
  });
});

describe('short-format lines, at their edges', () => {
  it('short-full: UTC, GMT and numeric offsets are zones; a zone name it cannot place is read as UTC', () => {
    const t = (zone: string) => parseJournal(`Mon 2026-11-23 10:00:00 ${zone} h etcd[1]: x`)[0]!.time?.toISOString();
    expect([t('UTC'), t('GMT'), t('CET')]).toEqual(['2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00.000Z']);
    // Zones without an abbreviation (Asia/Dubai, Asia/Kathmandu): glibc prints the offset, `+04` or `+0545`.
    expect([t('+04'), t('+0545'), t('-03')]).toEqual(['2026-11-23T06:00:00.000Z', '2026-11-23T04:15:00.000Z', '2026-11-23T13:00:00.000Z']);
    expect(parseJournal('Mon 2026-11-23 10:00:00 +04 h etcd[1]: x')[0]).toMatchObject({ host: 'h', ident: 'etcd', source: 'etcd', message: 'x' });
  });

  it('a monotonic or unix timestamp counts only before host and identifier; otherwise the line is plain text', () => {
    expect(parseJournal('[  12.500000] h etcd[1]: x')[0]).toMatchObject({ envelope: 'short', ident: 'etcd', message: 'x' });
    expect(parseJournal('[  12.500000] nothing here')[0]).toMatchObject({ envelope: 'none', ident: '' });
    expect(parseJournal('1795428131.5 h etcd[1]: x')[0]!.time?.toISOString()).toBe('2026-11-23T10:02:11.500Z');
    expect(parseJournal('1795428131.5 nothing')[0]).toMatchObject({ envelope: 'none' });
  });

  it('a timestamp without host and identifier is still a short line, of unknown origin', () => {
    expect(parseJournal('Nov 23 10:00:00 just words', { year: 2026 })[0]).toMatchObject({ envelope: 'short', ident: '', message: 'just words' });
  });

  it("journalctl's markers and -x catalog text are not entries; json-seq and CRLF line ends are read", () => {
    expect(parseJournal('-- No entries --\n-- Reboot --\n░░ Subject: A start job\nNov 23 10:00:00 h etcd[1]: x\r\n', { year: 2026 }).map((e) => e.message)).toEqual(['x']);
    expect(parseJournalLine('\u001eNov 23 10:00:00 h etcd[1]: y', { year: 2026 })?.message).toBe('y');
  });

  it('the year steps only on a jump back of more than six months', () => {
    const years = parseJournal('Jun 30 10:00:00 h a: x\nJan 02 10:00:00 h a: y\nMar 01 10:00:00 h a: z\nFeb 01 10:00:00 h a: w', { year: 2026 }).map((e) => e.time?.getUTCFullYear());
    expect(years).toEqual([2026, 2026, 2026, 2026]);
  });
});

describe('what the parser recognised', () => {
  it('journal-shaped: an envelope, or a payload etcd writes; plain text alone is not', () => {
    expect(isJournalShaped(parseJournal('plain words')[0]!)).toBe(false);
    expect(isJournalShaped(parseJournal('Nov 23 10:00:00 h x[1]: plain', { year: 2026 })[0]!)).toBe(true);
    expect(isJournalShaped(parseJournal('raft2026/11/23 10:00:00 INFO: a')[0]!)).toBe(true);
  });

  it('binary input: NUL bytes or replacement characters in most lines, not in a few', () => {
    expect(looksBinary('a\u0000b\nc\u0000\nok\n')).toBe(true);
    expect(looksBinary('a\uFFFDb\nok\nfine\n')).toBe(false);
    expect(looksBinary('a\uFFFDb\nok\n')).toBe(false);
    expect(looksBinary('\n\n')).toBe(false);
  });

  it('payloads: zap needs a string msg; console JSON extras become fields; a raft panic without a level is a panic', () => {
    expect(parsePayload('{"level":"warn","msg":5}').format).toBe('journald');
    const c = parsePayload('2026-11-23T10:00:00.000Z\twarn\tetcdserver/server.go:1\tslow\t{"took":"2s"}');
    expect(c).toMatchObject({ format: 'console', level: 'warning', message: 'slow', fields: { took: '2s', caller: 'etcdserver/server.go:1' } });
    expect(parsePayload('raft2026/11/23 10:17:31 panic: boom').level).toBe('panic');
    expect(parsePayload('raft2026/11/23 10:17:31 just words').level).toBeUndefined();
    expect(parsePayload('2026-11-23 10:15:41.889696 I | no package here')).toMatchObject({ format: 'capnslog', message: 'no package here', level: 'info' });
    expect(parsePayload('2026-11-23 10:15:41.889696 I | no package here').package).toBeUndefined();
    expect(parsePayload('trailing   ').message).toBe('trailing');
  });
});
