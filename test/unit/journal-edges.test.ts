import { describe, expect, it } from 'vitest';
import { entryLine, parseJournal, parseJournalLine, parsePayload } from '../../src/journal/parse.js';

// The parser at the edges of what journalctl and etcd print: syslog priorities at both ends, the year step, the
// systemd phrases that mark a bare line as PID 1's, odd -o json fields, and input it must read without throwing.
const one = (o: Record<string, unknown>) => parseJournal(JSON.stringify(o))[0]!;

describe('-o json: priorities and fields at their edges', () => {
  it('syslog priority 0 is critical and 7 is debug; 8 and above are no level', () => {
    expect(one({ MESSAGE: 'x', PRIORITY: '0' }).level).toBe('critical');
    expect(one({ MESSAGE: 'x', PRIORITY: '4' }).level).toBe('warning');
    expect(one({ MESSAGE: 'x', PRIORITY: '7' }).level).toBe('debug');
    expect(one({ MESSAGE: 'x', PRIORITY: '8' })).not.toHaveProperty('level');
  });

  it("a level etcd's payload states wins over the journal's priority", () => {
    expect(one({ MESSAGE: '{"level":"warn","msg":"slow fdatasync"}', PRIORITY: '6', SYSLOG_IDENTIFIER: 'etcd' }).level).toBe('warning');
  });

  it('an empty repeated field gives nothing, so the next field journald may use is taken', () => {
    expect(one({ MESSAGE: 'x', SYSLOG_IDENTIFIER: [], _COMM: 'etcd' }).ident).toBe('etcd');
  });

  it('a JSON array that holds anything but journal objects (null included) is plain text, not an error', () => {
    for (const text of ['[null]', '[1, 2]', '[[{"MESSAGE":"x"}]]', '[{"MESSAGE":"x"}, null]']) {
      expect(() => parseJournal(text), text).not.toThrow();
      expect(parseJournal(text), text).toEqual([expect.objectContaining({ envelope: 'none', message: text })]);
    }
  });

  it('a -o json-pretty block that is JSON but no journal entry is read line by line', () => {
    const es = parseJournal('{\n"level": "info"\n}');
    expect(es.map((e) => e.envelope)).toEqual(['none', 'none', 'none']);
  });

  it('a -o json-pretty object is looked for within 1000 lines of its opening brace', () => {
    const inner = (n: number) => Array.from({ length: n }, (_, i) => `"K${i}": "v",`).join('\n');
    const near = parseJournal(`{\n${inner(998)}\n"MESSAGE": "x"\n}`);
    expect(near).toEqual([expect.objectContaining({ envelope: 'json', message: 'x' })]);
    const far = parseJournal(`{\n${inner(999)}\n"MESSAGE": "x"\n}`);
    expect(far.length).toBeGreaterThan(1);
    expect(far.every((e) => e.envelope === 'none')).toBe(true);
  });

  it('one line of an -o json entry without a pid, or without an identifier, leaves out what it lacks', () => {
    expect(entryLine(one({ __REALTIME_TIMESTAMP: '1795428131000000', _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'etcd', MESSAGE: 'm' }))).toBe('2026-11-23 10:02:11 h etcd: m');
    expect(entryLine(one({ __REALTIME_TIMESTAMP: '1795428131000000', SYSLOG_IDENTIFIER: 'etcd', _PID: '9', MESSAGE: 'm' }))).toBe('2026-11-23 10:02:11 etcd[9]: m');
    expect(entryLine(one({ _HOSTNAME: 'h', MESSAGE: 'm' }))).toBe('h m');
  });
});

describe("a bare line is systemd's when it says what only systemd says", () => {
  it('Unknown key or lvalue, Missing =, Failed to enable or get unit, with or without a unit name', () => {
    for (const line of [
      "[/etc/systemd/system/etcd.conf:3] Unknown lvalue 'Foo' in section 'Service'",
      "/etc/systemd/system/x.conf:3: Unknown key 'Foo' in section [Service], ignoring.",
      "[/etc/systemd/system/x.conf:8] Missing '='.",
      'Failed to get unit file state for x: No such file or directory',
      'Failed to enable unit: Unit file x does not exist.',
      'x.service: Failed with result exit-code.',
    ]) {
      expect(parseJournal(line)[0]!.source, line).toBe('systemd');
    }
    for (const line of ['Unknown error', 'Failed to connect', 'a service outage', 'servicex']) expect(parseJournal(line)[0]!.source, line).toBe('other');
  });
});

describe('short lines: the year and the zones', () => {
  it('the year steps on a jump back of seven months or more, not of six', () => {
    const year = (a: string, b: string) => parseJournal(`${a} 01 10:00:00 h a: x\n${b} 02 10:00:00 h a: y`, { year: 2026 }).map((e) => e.time?.getUTCFullYear());
    expect(year('Jul', 'Jan')).toEqual([2026, 2026]);
    expect(year('Aug', 'Jan')).toEqual([2026, 2027]);
    expect(year('Jan', 'Jan')).toEqual([2026, 2026]);
  });

  it('the year state is carried from line to line only within one input', () => {
    expect(parseJournalLine('Jan 02 10:00:00 h a: y', { year: 2026 })!.time?.getUTCFullYear()).toBe(2026);
  });

  it('short-full with a numeric offset written with a colon', () => {
    expect(parseJournal('Mon 2026-11-23 10:00:00 +05:45 h etcd[1]: x')[0]!.time?.toISOString()).toBe('2026-11-23T04:15:00.000Z');
  });

  it('a fraction shorter than milliseconds is padded, a longer one cut', () => {
    const t = (f: string) => parseJournal(`Nov 23 10:00:00${f} h etcd[1]: x`, { year: 2026 })[0]!.time?.toISOString();
    expect([t('.5'), t('.05'), t('.123999')]).toEqual(['2026-11-23T10:00:00.500Z', '2026-11-23T10:00:00.050Z', '2026-11-23T10:00:00.123Z']);
  });
});

describe('payloads at their edges', () => {
  it('capnslog packages with slashes and dots; every capnslog level letter', () => {
    expect(parsePayload('2026-11-23 10:15:41.889696 N | etcdserver/api/v3rpc: grpc: x')).toMatchObject({ package: 'etcdserver/api/v3rpc', message: 'grpc: x', level: 'notice' });
    const lvl = (c: string) => parsePayload(`2026-11-23 10:15:41.889696 ${c} | etcdmain: x`).level;
    expect(['C', 'E', 'W', 'N', 'I', 'D', 'T'].map(lvl)).toEqual(['critical', 'error', 'warning', 'notice', 'info', 'debug', 'debug']);
  });

  it("raft's level words: WARNING, ERROR, DEBUG, PANIC, FATAL", () => {
    const lvl = (w: string) => parsePayload(`raft2026/11/23 10:17:52 ${w}: x`).level;
    expect(['WARNING', 'ERROR', 'DEBUG', 'PANIC', 'FATAL'].map(lvl)).toEqual(['warning', 'error', 'debug', 'panic', 'fatal']);
  });

  it("zap's levels, dpanic and an unknown word included", () => {
    const lvl = (w: string) => parsePayload(`{"level":"${w}","msg":"x"}`).level;
    expect(['debug', 'INFO', 'dpanic', 'fatal', 'crit', 'verbose'].map(lvl)).toEqual(['debug', 'info', 'panic', 'fatal', 'critical', undefined]);
    expect(parsePayload('{"level":3,"msg":"x"}').level).toBeUndefined();
  });

  it('console lines: no logger, broken JSON after the message, no zone', () => {
    const c = parsePayload('2026-11-23T10:00:00.5\terror\tembed/etcd.go:1\tfailed\t{broken}');
    // The braces are read as the fields' JSON; not JSON, they add no field.
    expect(c).toMatchObject({ format: 'console', level: 'error', message: 'failed' });
    expect(c.fields).toEqual({ level: 'error', ts: '2026-11-23T10:00:00.5', caller: 'embed/etcd.go:1', msg: 'failed' });
    expect(c.time?.toISOString()).toBe('2026-11-23T10:00:00.500Z');
  });

  it('zap ts as epoch seconds is rounded to the millisecond; a ts of another type is no time', () => {
    expect(parsePayload('{"ts":1795428131.0006,"msg":"x"}').time?.getTime()).toBe(1795428131001);
    expect(parsePayload('{"ts":{"s":1},"msg":"x"}').time).toBeUndefined();
    expect(parsePayload('{"msg":"x"}').time).toBeUndefined();
  });
});
