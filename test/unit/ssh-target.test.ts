import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { parseJumpHost, resolveTarget } from '../../src/ssh/target.js';

const inventory = (ssh: string, node = '') =>
  validateInventory(`ssh:\n${ssh || '  {}'}\nnodes:\n  - name: a\n    address: cp-a\n    internalIp: 10.0.0.1\n${node}`, { file: '/i.yaml', homeDir: '/home/u' }).inventory!;

const config = `
Host cp-*
  HostName %h.lab.example
  User ops
  Port 2222
  IdentityFile ~/.ssh/lab
  ProxyJump bastion@gw.example:2200
Host cp-a
  HostName 10.9.0.5
`;

describe('ssh targets', () => {
  it('parses jump hosts as OpenSSH writes them', () => {
    expect(parseJumpHost('admin@bastion:2200')).toEqual({ host: 'bastion', port: 2200, user: 'admin' });
    expect(parseJumpHost('bastion')).toEqual({ host: 'bastion', port: 22 });
    expect(parseJumpHost('ssh://u@[fd00::1]:22')).toEqual({ host: 'fd00::1', port: 22, user: 'u' });
  });

  it('takes HostName, User, Port, IdentityFile and ProxyJump from ~/.ssh/config where the inventory left defaults', () => {
    const inv = inventory('');
    const t = resolveTarget(inv.nodes[0]!, { sshConfig: config, homeDir: '/home/u', defaulted: new Set(inv.nodes[0]!.ssh.defaulted) });
    expect(t).toMatchObject({ host: 'cp-a.lab.example', user: 'ops', port: 2222, jumps: [{ host: 'gw.example', port: 2200, user: 'bastion' }] });
    expect(t.identityFiles).toEqual(['/home/u/.ssh/lab', '/home/u/.ssh/id_ed25519']);
  });

  it('lets what the inventory sets win over the config, as ssh -l/-p/-i would', () => {
    const inv = inventory('  user: root\n  port: 22\n  identityFile: /keys/id', '    jumpHost: j:2022\n');
    const t = resolveTarget(inv.nodes[0]!, { sshConfig: config, homeDir: '/home/u', defaulted: new Set(inv.nodes[0]!.ssh.defaulted) });
    expect(t).toMatchObject({ user: 'root', port: 22, identityFiles: ['/keys/id'], jumps: [{ host: 'j', port: 2022 }] });
  });

  it('uses the address as it is without a config', () => {
    const inv = inventory('');
    expect(resolveTarget(inv.nodes[0]!, { homeDir: '/home/u' })).toMatchObject({ host: 'cp-a', port: 22, user: 'root', jumps: [] });
  });
});
