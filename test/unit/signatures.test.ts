import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJournal, type JournalEntry } from '../../src/journal/parse.js';
import {
  compileCatalog,
  fillTemplate,
  loadCatalog,
  matchEntry,
  matchSignatures,
  signatureById,
  type Match,
} from '../../src/journal/signatures.js';
import catalogData from '../../src/journal/signatures.json' with { type: 'json' };

const FIX = path.join(import.meta.dirname, '../fixtures/journal');
const read = (name: string): JournalEntry[] => parseJournal(readFileSync(path.join(FIX, name), 'utf8'), { year: 2026, file: name });
const allFixtures = readdirSync(FIX).filter((f) => /\.(txt|json)$/.test(f));
const line = (text: string): JournalEntry => parseJournal(text, { year: 2026 })[0]!;
const ids = (ms: Match[]): string[] => [...new Set(ms.map((m) => m.id))].sort();

describe('the catalog', () => {
  const catalog = loadCatalog();

  it('loads, validates and compiles; ids are unique', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(40);
    expect(new Set(catalog.map((s) => s.id)).size).toBe(catalog.length);
  });

  it('has the entries the issue asks for', () => {
    const want = [
      'SD-01', 'SD-02', 'SD-04', 'SD-05', 'SD-08', // unit-file syntax, bad setting, start limit, main process exited
      'BOOT-07', 'BOOT-08', 'BOOT-09', 'BOOT-10', 'BOOT-01', 'BOOT-02', // missing file, bind, permission, bootstrapped, cluster ID
      'DISK-01', 'DISK-02', 'DISK-03', // slow disk
      'RAFT-01', 'RAFT-02', 'RAFT-14', 'ELECT-LOOP', // elections
      'PEER-01', 'TLS-01', 'TLS-02', 'TLS-04', 'SPACE-01', 'CLOCK-01',
    ];
    for (const id of want) expect(catalog.map((s) => s.id), id).toContain(id);
  });

  it('every entry has a title, a meaning and a concrete fix', () => {
    for (const s of catalog) {
      expect(s.title.length, s.id).toBeGreaterThan(5);
      expect(s.meaning.length, s.id).toBeGreaterThan(30);
      expect(s.fix.length, s.id).toBeGreaterThan(s.severity === 'info' ? 3 : 20);
    }
  });

  it('a missing form is explicit: null with a note', () => {
    for (const s of catalog.filter((x) => x.pattern34 === null || x.patternJson === null)) {
      expect(s.note?.length ?? 0, s.id).toBeGreaterThan(15);
    }
    // systemd's messages are the same whatever the etcd version: no zap form.
    for (const s of catalog.filter((x) => x.sources.includes('systemd'))) expect(s.patternJson, s.id).toBeNull();
  });

  it('rejects a malformed catalog: bad regex, duplicate id, missing note', () => {
    const base = { id: 'X-1', severity: 'error', title: 'x', sources: ['etcd'], pattern34: ['a'], patternJson: [{ msg: 'a' }], meaning: 'm', fix: 'f' };
    expect(() => compileCatalog({ signatures: [base] })).not.toThrow();
    expect(() => compileCatalog({ signatures: [{ ...base, pattern34: ['(unclosed'] }] })).toThrow(/bad regex in X-1.pattern34\[0\]/);
    expect(() => compileCatalog({ signatures: [base, base] })).toThrow(/duplicate id X-1/);
    expect(() => compileCatalog({ signatures: [{ ...base, patternJson: null }] })).toThrow(/note/);
    expect(() => compileCatalog({ signatures: [{ ...base, patternJson: [{}] }] })).toThrow(/msg or fields/);
    expect(() => compileCatalog({ signatures: [{ ...base, severity: 'fatal' }] })).toThrow();
  });

  it('names where a catalog is wrong, and compiles every JSON form: msg, fields and captures', () => {
    const base = { id: 'X-1', severity: 'error', title: 'x', sources: ['etcd'], pattern34: ['a'], patternJson: [{ msg: 'a' }], meaning: 'm', fix: 'f' };
    expect(() => compileCatalog({ signatures: [{ ...base, patternJson: [{ fields: {} }] }] })).toThrow('signature catalog: signatures.0.patternJson.0: a JSON pattern needs msg or fields');
    expect(() => compileCatalog({ signatures: [{ ...base, patternJson: [{ msg: 'a', fields: { level: '(' } }] }] })).toThrow(/bad regex in X-1\.patternJson\[0\]\.fields\.level/);
    expect(() => compileCatalog({ signatures: [{ ...base, patternJson: [{ msg: '(' }] }] })).toThrow(/bad regex in X-1\.patternJson\[0\]\.msg/);
    expect(() => compileCatalog({ signatures: [] })).toThrow(/^signature catalog: signatures: /);
    // A pattern may be null only with a note; both null only for a derived signature, and a derived one has none.
    expect(() => compileCatalog({ signatures: [{ ...base, pattern34: null, note: 'no 3.4 form: zap only' }] })).not.toThrow();
    expect(() => compileCatalog({ signatures: [{ ...base, pattern34: null, patternJson: null, note: 'n' }] })).toThrow(/only derived signatures/);
    expect(() => compileCatalog({ signatures: [{ ...base, pattern34: null, patternJson: null, note: 'n', derived: 'elections' }] })).not.toThrow();
    expect(() => compileCatalog({ signatures: [{ ...base, derived: 'elections' }] })).toThrow(/only derived signatures/);
    const [sig] = compileCatalog({ signatures: [{ ...base, patternJson: [{ fields: { level: 'warn' }, capture: { peer: 'to', took: ['took', 'duration'] } }] }] });
    expect(sig!.reJson).toEqual([{ msg: undefined, fields: [['level', /warn/]], capture: [['peer', ['to']], ['took', ['took', 'duration']]] }]);
  });

  it('the data file is the one the loader uses', () => {
    expect(catalog.map((s) => s.id)).toEqual(catalogData.signatures.map((s) => s.id));
  });
});

describe('coverage: every entry is matched by a fixture line in 3.4 text form AND in zap JSON form', () => {
  const catalog = loadCatalog();
  // Matched inside the tests (once, by the first that asks), not while the file is collected (the catalog is needed
  // then, to name the tests): mutation testing switches a mutant on only for the tests that ran the mutated code.
  let forms: { text: Set<string>; json: Set<string> } | undefined;
  const matched = () => {
    if (!forms) {
      const matches = allFixtures.flatMap((f) => matchSignatures(read(f), catalog));
      const byForm = (form: '34' | 'json'): Set<string> => new Set(matches.filter((m) => m.form === form).map((m) => m.id));
      forms = { text: byForm('34'), json: byForm('json') };
    }
    return forms;
  };

  for (const s of catalog) {
    it(`${s.id}`, () => {
      const { text, json } = matched();
      if (s.pattern34 !== null) expect(text.has(s.id), `${s.id}: no fixture line matches pattern34`).toBe(true);
      if (s.patternJson !== null) expect(json.has(s.id), `${s.id}: no fixture line matches patternJson`).toBe(true);
      if (s.pattern34 === null && s.patternJson === null) expect(s.derived, `${s.id}: no pattern and not derived`).toBe('elections');
    });
  }

  it('catalog-34 is matched only in text form and catalog-35 only in JSON form', () => {
    expect(matchSignatures(read('catalog-34.short.txt')).every((m) => m.form === '34')).toBe(true);
    expect(matchSignatures(read('catalog-35.zap.short.txt')).every((m) => m.form === 'json')).toBe(true);
  });
});

describe('matching: evidence in the groups', () => {
  it("SD-01: both `Missing '='` forms of systemd 252 and the old bracket form, file and line", () => {
    for (const [text, file, ln] of [
      ["Nov 23 10:02:11 controller-0 systemd[1]: /etc/systemd/system/etcd.service:7: Missing '='.", '/etc/systemd/system/etcd.service', '7'],
      ["Nov 23 10:02:11 controller-0 systemd[1]: /etc/systemd/system/etcd.service:7: Missing '=', ignoring line.", '/etc/systemd/system/etcd.service', '7'],
      ["Nov 23 10:02:11 c systemd[1]: [/etc/systemd/system/etcd.service:8] Missing '='.", '/etc/systemd/system/etcd.service', '8'],
      ["Nov 23 10:02:11 c systemd[1]: /etc/systemd/system/etcd.service.d/10-flags.conf:3: Missing '=', ignoring line.", '/etc/systemd/system/etcd.service.d/10-flags.conf', '3'],
    ] as const) {
      const [m] = matchEntry(line(text));
      expect(m, text).toMatchObject({ id: 'SD-01', form: '34', groups: { file, line: ln } });
    }
  });

  it('SD-02 unknown key, with spaces in the key', () => {
    const [m] = matchEntry(line("Nov 23 10:02:11 c systemd[1]: /etc/systemd/system/etcd.service:20: Unknown key '--initial-cluster controller-0' in section [Service], ignoring."));
    expect(m).toMatchObject({ id: 'SD-02', groups: { line: '20', key: '--initial-cluster controller-0' } });
  });

  it('SD-05 exit code and status; systemd lines about other units do not match', () => {
    const [m] = matchEntry(line('Nov 23 10:02:12 c systemd[1]: etcd.service: Main process exited, code=exited, status=2/INVALIDARGUMENT'));
    expect(m).toMatchObject({ id: 'SD-05', groups: { unit: 'etcd.service', code: 'exited', status: '2', statusName: 'INVALIDARGUMENT' } });
    expect(matchEntry(line('Nov 23 10:02:12 c systemd[1]: nginx.service: Main process exited, code=exited, status=1/FAILURE'))).toEqual([]);
    expect(matchEntry(line("Nov 23 10:02:12 c systemd[1]: /etc/systemd/system/backup.service:4: Missing '=', ignoring line."))).toEqual([]);
    expect(matchEntry(line('Nov 23 10:02:12 c systemd[1]: nginx.service: Start request repeated too quickly.'))).toEqual([]);
  });

  it('BOOT-07 names the missing file, in text and in zap form', () => {
    const [a] = matchEntry(line('May 09 04:46:10 k8smaster0 etcd[1379]: open /etc/etcd/kubernetes.pem: no such file or directory'));
    expect(a).toMatchObject({ id: 'BOOT-07', groups: { path: '/etc/etcd/kubernetes.pem', reason: 'no such file or directory' } });
    const [b] = matchEntry(
      line('May 03 02:41:02 c etcd[1]: {"level":"warn","ts":"2024-05-03T02:41:02Z","caller":"etcdmain/etcd.go:146","msg":"failed to start etcd","error":"open /etc/etcd/ca.pem: permission denied"}'),
    );
    expect(b).toMatchObject({ id: 'BOOT-07', form: 'json', groups: { path: '/etc/etcd/ca.pem', reason: 'permission denied' } });
  });

  it('DISK-01 durations from capnslog (strace wrapper) and from zap fields', () => {
    const [a] = matchEntry(line('Nov 23 09:55:41 controller-1 strace[812]: 2026-11-23 09:55:41.962700 W | wal: sync duration of 1.200572091s, expected less than 1s'));
    expect(a).toMatchObject({ id: 'DISK-01', groups: { took: '1.200572091s', expected: '1s' } });
    const [b] = matchEntry(line('May 03 02:41:20 c etcd[1]: {"level":"warn","ts":"2024-05-03T02:41:20Z","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"1.234s","expected-duration":"1s"}'));
    expect(b).toMatchObject({ id: 'DISK-01', form: 'json', groups: { took: '1.234s', expected: '1s' } });
  });

  it('RAFT lines: member and term, whatever the format', () => {
    for (const text of [
      'Nov 23 10:17:52 c etcd[1]: raft2026/11/23 10:17:52 INFO: eed2010be9a63041 is starting a new election at term 5',
      'Nov 23 10:17:52 c etcd[1]: {"level":"info","ts":"2026-11-23T10:16:14.653Z","caller":"raft/raft.go:929","msg":"eed2010be9a63041 is starting a new election at term 5"}',
      'Nov 23 10:17:52 c etcd[1]: {"level":"info","ts":"2024-05-03T02:41:10.123456Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"eed2010be9a63041 is starting a new election at term 5"}',
    ]) {
      const [m] = matchEntry(line(text));
      expect(m, text).toMatchObject({ id: 'RAFT-01', groups: { member: 'eed2010be9a63041', term: '5' } });
    }
  });

  it('a prober error is PEER-01 for network errors and TLS for x509 (never both)', () => {
    expect(matchEntry(line('Nov 23 10:00:00 c etcd[1]: x'))).toEqual([]);
    expect(ids(matchEntry(line('May 03 02:41:14 k etcd[2]: health check for peer 13f2e6747ca8e776 could not connect: dial tcp 192.168.199.202:2380: connect: connection refused')))).toEqual(['PEER-01']);
    expect(ids(matchEntry(line('May 03 02:41:14 k etcd[2]: health check for peer 367bc27ac7e3f18f could not connect: x509: certificate is valid for 127.0.0.1, not 127.0.0.2')))).toEqual(['TLS-01']);
    const [tls] = matchEntry(line('May 03 02:41:14 k etcd[2]: health check for peer 367bc27ac7e3f18f could not connect: x509: certificate is valid for 10.32.0.1, 127.0.0.1, 10.240.0.10, not 10.240.0.11'));
    expect(tls!.groups).toMatchObject({ peer: '367bc27ac7e3f18f', valid: '10.32.0.1, 127.0.0.1, 10.240.0.10', wanted: '10.240.0.11' });
    expect(ids(matchEntry(line('May 03 02:41:14 k etcd[2]: rejected connection from "127.0.0.1:43690" (error "x509: certificate is valid for 127.0.0.2, not 127.0.0.1", ServerName "", IPAddresses ["127.0.0.2"], DNSNames [])')))).toEqual(['TLS-01b']);
  });

  it('zap capture: CLOCK-01 peer and drift, BOOT-02 cluster ids', () => {
    const [c] = matchEntry(
      line('May 03 02:41:19 c etcd[1]: {"level":"warn","ts":"2024-05-03T02:41:19Z","caller":"rafthttp/probing_status.go:82","msg":"prober found high clock drift","remote-peer-id":"9e737febb6b99eee","clock-drift":"1.523s","error":null}'),
    );
    expect(c).toMatchObject({ id: 'CLOCK-01', groups: { peer: '9e737febb6b99eee', drift: '1.523s' } });
    const [b] = matchSignatures(read('catalog-35.zap.short.txt')).filter((m) => m.id === 'BOOT-02');
    expect(b!.groups).toMatchObject({ localCluster: '279766e493a36212', remoteCluster: '4de20da8b33defe1' });
  });

  it('the unrelated journal (nginx, cron, sshd, coredns, a healthy etcd start) matches nothing but raft info lines', () => {
    const ms = matchSignatures(read('unrelated.short.txt'));
    expect(ms.every((m) => m.signature.analysis === 'elections')).toBe(true);
  });
});

describe('fillTemplate', () => {
  it('fills {name}, {name|default}, joins several values and leaves ${VAR} alone', () => {
    expect(fillTemplate('copy {path} to {host|the node}; ${HOME} {missing}', { path: ['/a', '/b'] })).toBe('copy /a, /b to the node; ${HOME} ?');
  });
});

describe('matching rules', () => {
  const sig = (extra: object) => ({ id: 'X-1', severity: 'error', title: 'x', sources: ['etcd'], meaning: 'm', fix: 'f', ...extra });
  const entry = (message: string, fields?: Record<string, unknown>): JournalEntry => ({
    ident: 'etcd', source: 'etcd', message, raw: message, format: fields ? 'zap-json' : 'text', envelope: 'none', line: 1, ...(fields ? { fields } : {}),
  } as JournalEntry);

  it('reports a signature at most once per entry, with the groups of the first of its patterns that matches', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['(?<a>disk) slow', '(?<b>disk)'], patternJson: [{ msg: '(?<a>disk) slow' }, { msg: '(?<b>disk)' }] })] });
    const text = matchEntry(entry('disk slow'), cat);
    expect(text.map((m) => [m.id, m.form, m.groups])).toEqual([['X-1', '34', { a: 'disk' }]]);
    const json = matchEntry(entry('disk slow', { msg: 'disk slow' }), cat);
    expect(json.map((m) => [m.id, m.form, m.groups])).toEqual([['X-1', 'json', { a: 'disk' }]]);
  });

  it("tries an entry of unknown origin against every signature, another program's never, and each source's only its own", () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['boom'], patternJson: [{ msg: 'boom' }] }), sig({ id: 'S-1', sources: ['systemd'], pattern34: ['boom'], patternJson: null, note: 'systemd has no zap form' })] });
    const from = (source: string, ident: string) => matchEntry({ ...entry('boom'), source, ident } as JournalEntry, cat).map((m) => m.id);
    expect(from('other', '')).toEqual(['X-1', 'S-1']);
    expect(from('other', 'nginx')).toEqual([]);
    expect(from('etcd', 'etcd')).toEqual(['X-1']);
    expect(from('systemd', 'systemd')).toEqual(['S-1']);
  });

  it('matches a message on its first 64 KiB only', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['needle'], patternJson: [{ msg: 'needle' }] })] });
    const at = (n: number) => `${'x'.repeat(n)}needle${'x'.repeat(1000)}`;
    expect(matchEntry(entry(at(64 * 1024 - 6)), cat)).toHaveLength(1);
    expect(matchEntry(entry(at(64 * 1024 - 5)), cat)).toHaveLength(0);
  });

  it('matches an entry whose msg is not a string as text, with the text patterns', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['plain'], patternJson: [{ fields: { level: 'warn' } }] })] });
    expect(matchEntry(entry('plain words', { msg: 42, level: 'warn' }), cat).map((m) => m.form)).toEqual(['34']);
    expect(matchEntry(entry('plain words', { msg: 'plain words', level: 'warn' }), cat).map((m) => m.form)).toEqual(['json']);
  });

  it('captures the first zap field that has a value: null, empty and missing fields are passed over', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['x'], patternJson: [{ msg: 'failed', capture: { peer: ['remote-peer-id', 'peer-id', 'to'] } }] })] });
    const groups = (fields: Record<string, unknown>) => matchEntry(entry('failed', { msg: 'failed', ...fields }), cat)[0]!.groups;
    expect(groups({ 'remote-peer-id': null, 'peer-id': '', to: 'abc' })).toEqual({ peer: 'abc' });
    expect(groups({ 'remote-peer-id': 'r1', to: 'abc' })).toEqual({ peer: 'r1' });
    expect(groups({ to: 7 })).toEqual({ peer: '7' });
    expect(groups({})).toEqual({});
  });

  it('a JSON pattern needs every field it names to exist and match; regex groups win over captures', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['x'], patternJson: [{ msg: 'took (?<took>\\S+)', fields: { level: 'warn|error' }, capture: { took: 'took' } }] })] });
    expect(matchEntry(entry('took 1s', { msg: 'took 1s' }), cat)).toEqual([]);
    expect(matchEntry(entry('took 1s', { msg: 'took 1s', level: 'info' }), cat)).toEqual([]);
    expect(matchEntry(entry('took 1s', { msg: 'took 1s', level: 'warn', took: '2s' }), cat)[0]!.groups).toEqual({ took: '1s' });
  });

  it('a named field must exist even when its regex would match anything', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['x'], patternJson: [{ msg: 'slow', fields: { took: '.*' } }] })] });
    expect(matchEntry(entry('slow', { msg: 'slow' }), cat)).toEqual([]);
    expect(matchEntry(entry('slow', { msg: 'slow', took: '' }), cat)).toHaveLength(1);
  });

  it('evidence is the groups that took part: the first value of a name wins, a group that matched nothing is absent', () => {
    const cat = compileCatalog({ signatures: [sig({ pattern34: ['(?<peer>p\\d)(?: to (?<to>\\w+))?'], patternJson: [{ msg: 'to (?<peer>\\w+)', fields: { remote: '(?<peer>\\w+)' } }] })] });
    const text = matchEntry(entry('p1 alone'), cat)[0]!.groups;
    expect(Object.keys(text)).toEqual(['peer']);
    expect(matchEntry(entry('to abc', { msg: 'to abc', remote: 'xyz' }), cat)[0]!.groups).toStrictEqual({ peer: 'abc' });
  });
});

describe('the catalog, compiled', () => {
  const base = { id: 'X-1', severity: 'error', title: 'x', sources: ['etcd'], pattern34: ['a'], patternJson: [{ msg: 'a' }], meaning: 'm', fix: 'f' };

  it('a form that is null compiles to no pattern at all', () => {
    const [sig] = compileCatalog({ signatures: [{ ...base, pattern34: null, patternJson: null, note: 'n', derived: 'elections' }] });
    expect([sig!.re34, sig!.reJson]).toEqual([[], []]);
  });

  it('a signature without a text form needs a note too, as one without a JSON form does', () => {
    expect(() => compileCatalog({ signatures: [{ ...base, pattern34: null }] })).toThrow(/a signature without a 3\.4 or a JSON form needs a note saying why/);
  });

  it('finds a signature by its id, and none for an id it does not have', () => {
    expect(signatureById('SD-01')?.title).toBe(loadCatalog().find((s) => s.id === 'SD-01')!.title);
    expect(signatureById('SD-02')?.id).toBe('SD-02');
    expect(signatureById('NOPE-1')).toBeUndefined();
    const own = compileCatalog({ signatures: [base] });
    expect(signatureById('X-1', own)).toBe(own[0]);
    expect(signatureById('SD-01', own)).toBeUndefined();
  });

  it('fills a placeholder with the values found, never an empty one; nothing found is the default or ?', () => {
    expect(fillTemplate('peer {peer|unknown}', { peer: ['', 'abc', ''] })).toBe('peer abc');
    expect(fillTemplate('peer {peer|unknown}', { peer: [''] })).toBe('peer unknown');
    expect(fillTemplate('peer {peer}', { peer: [''] })).toBe('peer ?');
  });
});
