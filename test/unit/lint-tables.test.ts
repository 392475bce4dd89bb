import { describe, expect, it } from 'vitest';

// The lint's fixed tables, entry by entry: Go's boolean spellings, the TLS flags and the kind of file each needs, the
// flags whose values are URLs. The module is imported inside the test (not at the top of this file) so that its
// tables are built while the test runs: a mutation tool then knows which test reads them.
describe("the lint's tables", () => {
  it('every boolean spelling, every TLS flag and its file, every URL flag', async () => {
    const { lintUnit } = await import('../../src/render/lint.js');
    const { installedPaths } = await import('../../src/render/paths.js');
    const unit = (flags: string[]) =>
      `[Unit]\nDescription=etcd\n\n[Service]\nType=notify\n${['ExecStart=/usr/local/bin/etcd', '  --name a', ...flags.map((f) => `  ${f}`)].join(' \\\n')}\n\n[Install]\nWantedBy=multi-user.target\n`;
    // 3.5: the release with every TLS flag (the client-* ones are new in it).
    const lint = (flags: string[]) => lintUnit(unit(flags), { file: '/etc/systemd/system/etcd.service', etcdVersion: '3.5.17', installedPaths: installedPaths() });

    // strconv.ParseBool: these twelve after '=', and each of them, as a separate word, a value the flag does not take.
    for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']) {
      expect(lint([`--client-cert-auth=${v}`]), v).toEqual([]);
      expect(lint([`--client-cert-auth ${v}`]).map((p) => p.rule), v).toEqual(['flag-value']);
    }

    // Each TLS flag given the file of another kind: named with the kind it needs.
    const kinds: [string, string, string][] = [
      ['cert-file', '/etc/etcd/kubernetes-key.pem', 'certificate'],
      ['peer-cert-file', '/etc/etcd/ca.pem', 'certificate'],
      ['client-cert-file', '/etc/etcd/ca.pem', 'certificate'],
      ['peer-client-cert-file', '/etc/etcd/ca.pem', 'certificate'],
      ['key-file', '/etc/etcd/kubernetes.pem', 'private key'],
      ['peer-key-file', '/etc/etcd/kubernetes.pem', 'private key'],
      ['client-key-file', '/etc/etcd/kubernetes.pem', 'private key'],
      ['peer-client-key-file', '/etc/etcd/kubernetes.pem', 'private key'],
      ['trusted-ca-file', '/etc/etcd/kubernetes.pem', 'CA certificate'],
      ['peer-trusted-ca-file', '/etc/etcd/kubernetes.pem', 'CA certificate'],
    ];
    for (const [flag, file, kind] of kinds) {
      const ps = lint([`--${flag}=${file}`]).filter((p) => p.rule === 'path');
      expect(ps, flag).toHaveLength(1);
      expect(ps[0]!.message, flag).toMatch(new RegExp(`but this flag needs the ${kind}: `));
    }

    // Each flag whose value etcd listens on, advertises or dials: plain http on a network address is refused.
    for (const flag of ['listen-peer-urls', 'listen-client-urls', 'initial-advertise-peer-urls', 'advertise-client-urls', 'initial-cluster', 'listen-metrics-urls']) {
      const value = flag === 'initial-cluster' ? 'a=http://10.0.0.1:2380' : 'http://10.0.0.1:2379';
      expect(lint([`--${flag}=${value}`]).map((p) => p.rule), flag).toEqual(['plain-http']);
    }
  });
});
