import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { etcdctlEnv, renderEnv } from '../../src/etcd/env.js';
import { etcdctlTarget, exitStatusOf } from '../../src/members/etcdctl.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';
import { etcdctlUserCommand } from '../../src/etcd/etcdctl.js';
import { health, inv, status } from './members-fakes.js';

const all = new Set(inv.nodes.map((n) => n.name));

describe('hardway etcdctl: where it runs', () => {
  it('on the leader', () => {
    expect(etcdctlTarget(inv.nodes, all, [status(0, 2), status(1, 2), status(2, 2)])).toEqual({ node: inv.nodes[2], why: 'the leader' });
  });

  it('on the first healthy member when no leader answers, or when SSH does not reach the leader', () => {
    expect(etcdctlTarget(inv.nodes, all, [], [health(0, false), health(1), health(2)])?.node.name).toBe('controller-1');
    const noLeaderSsh = new Set(['controller-0', 'controller-1']);
    expect(etcdctlTarget(inv.nodes, noLeaderSsh, [status(0, 2), status(2, 2)], [health(0), health(2)])?.node.name).toBe('controller-0');
  });

  it('on the first node reached when no member answers, and nowhere when none is reached', () => {
    expect(etcdctlTarget(inv.nodes, new Set(['controller-2']), [], [health(0, false)])).toEqual({ node: inv.nodes[2], why: 'no member answered' });
    expect(etcdctlTarget(inv.nodes, new Set(), [status(0, 0)], [health(0)])).toBeUndefined();
  });

  it("exits as a shell would: etcdctl's code, or 128 + the signal that ended it", () => {
    expect(exitStatusOf({ code: 128 })).toBe(128);
    expect(exitStatusOf({ code: 0 })).toBe(0);
    expect(exitStatusOf({ code: null, signal: 'TERM' })).toBe(143);
    expect(exitStatusOf({ code: null, signal: 'SIGINT' })).toBe(130);
    expect(exitStatusOf({ code: null })).toBe(255);
  });
});

describe('etcdctlUserCommand', () => {
  it('gives etcdctl the endpoints and certificates as variables and the arguments unchanged, through a real shell', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-etcdctl-'));
    const fake = path.join(dir, 'etcdctl');
    writeFileSync(fake, '#!/bin/sh\nenv | grep ^ETCDCTL_ | sort\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n');
    chmodSync(fake, 0o755);
    const args = ['put', "it's", '', '--prefix', 'a b;$(echo no)'];
    const cmd = etcdctlUserCommand(['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], args).replace(REMOTE_PATHS.etcdctl, fake);
    expect(cmd).toMatch(/; exec /);
    const out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(out.split('\n')).toEqual([
      'ETCDCTL_API=3',
      `ETCDCTL_CACERT=${REMOTE_PATHS.caCert}`,
      `ETCDCTL_CERT=${REMOTE_PATHS.cert}`,
      'ETCDCTL_ENDPOINTS=https://10.0.0.1:2379,https://10.0.0.2:2379',
      `ETCDCTL_KEY=${REMOTE_PATHS.key}`,
      ...args.map((a) => `<${a}>`),
      '',
    ]);
  });
});

describe('hardway env', () => {
  const vars = etcdctlEnv(inv);

  it("names every inventory endpoint and pki.dir's files by absolute path", () => {
    expect(vars).toEqual([
      ['ETCDCTL_API', '3'],
      ['ETCDCTL_ENDPOINTS', 'https://10.240.0.10:2379,https://10.240.0.11:2379,https://10.240.0.12:2379'],
      ['ETCDCTL_CACERT', '/p/pki/ca.pem'],
      ['ETCDCTL_CERT', '/p/pki/kubernetes.pem'],
      ['ETCDCTL_KEY', '/p/pki/kubernetes-key.pem'],
    ]);
  });

  it('prints lines that sh sets the variables from, quoting what needs it', () => {
    const odd: [string, string][] = [...vars, ['ETCDCTL_KEY', "/home/o'brien/my pki/kubernetes-key.pem"]];
    const out = execFileSync('sh', ['-c', `eval "$1" && printf '%s|%s|%s' "$ETCDCTL_API" "$ETCDCTL_ENDPOINTS" "$ETCDCTL_KEY"`, 'sh', renderEnv(odd, 'sh')], { encoding: 'utf8' });
    expect(out).toBe("3|https://10.240.0.10:2379,https://10.240.0.11:2379,https://10.240.0.12:2379|/home/o'brien/my pki/kubernetes-key.pem");
  });

  it('prints fish and PowerShell syntax, quoted for each', () => {
    const odd: [string, string][] = [['ETCDCTL_KEY', "/o'b\\x/k.pem"]];
    expect(renderEnv(odd, 'fish')).toBe("set -gx ETCDCTL_KEY '/o\\'b\\\\x/k.pem';");
    expect(renderEnv(odd, 'powershell')).toBe("$Env:ETCDCTL_KEY = '/o''b\\x/k.pem'");
  });
});
