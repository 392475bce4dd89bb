import { Option, type Command } from 'commander';
import { info, printJson, println, renderTable } from '../output.js';
import { labDown, labStatus, labUp, setLink, startNode, stopNode, type LabOptions } from '../lab/lab.js';
import { DEFAULT_LAB_DIR, DEFAULT_NODES, MAX_NODES, MIN_NODES, parseNodeCount } from '../lab/plan.js';
import { ETCD35_SUITE, parseLabEtcd, type LabEtcd } from '../lab/debs.js';

/**
 * `hardway lab`: a local lab of real nodes (systemd-nspawn containers with systemd, sshd and journald)
 * on a bridge, with a ready inventory. Linux and root only.
 */

interface LabCliOptions {
  dir: string;
  bridge?: string;
  subnet?: string;
  json?: boolean;
  nodes?: number;
  etcd?: LabEtcd;
}

function withLabDir(cmd: Command): Command {
  return cmd
    .option('--dir <dir>', 'lab directory: state, overlays, SSH key, known_hosts, tarball, inventory', DEFAULT_LAB_DIR)
    .addOption(new Option('--bridge <name>', 'bridge for a second lab next to the default hwlab0').hideHelp())
    .addOption(new Option('--subnet <cidr>', 'subnet (a private /24) for a second lab next to the default 10.240.0.0/24').hideHelp());
}

function labOpts(o: LabCliOptions): LabOptions {
  return { dir: o.dir, ...(o.bridge ? { bridge: o.bridge } : {}), ...(o.subnet ? { subnet: o.subnet } : {}) };
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a local lab of nodes (systemd-nspawn containers on a bridge) with a ready inventory; Linux, root')
    .exitOverride();

  withLabDir(
    lab
      .command('up')
      .description(`boot the lab's nodes (controller-0…) and write its inventory.yaml; a no-op when they already run`)
      .addOption(
        new Option('--nodes <n>', `number of nodes, ${MIN_NODES} to ${MAX_NODES} (default: as running, else ${DEFAULT_NODES})`).argParser((v: string) =>
          parseNodeCount(v),
        ),
      )
      .addOption(
        new Option('--etcd <minor>', `etcd to pack: 3.4 (this machine's etcd-server) or 3.5 (Debian ${ETCD35_SUITE}'s, fetched once) (default: as running, else 3.4)`).argParser(
          (v: string) => parseLabEtcd(v),
        ),
      ),
  )
    .exitOverride()
    .action(async (o: LabCliOptions) => {
      const started = Date.now();
      const r = await labUp({ ...labOpts(o), ...(o.nodes !== undefined ? { nodes: o.nodes } : {}), ...(o.etcd ? { etcd: o.etcd } : {}) });
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (r.noop) info(`lab: already up (${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}); nothing to do`);
      else {
        const what = [r.added.length ? `booted ${r.added.join(', ')}` : '', r.removed.length ? `removed ${r.removed.join(', ')}` : '']
          .filter(Boolean)
          .join('; ');
        info(`lab: up in ${secs} s${what ? ` (${what})` : ''}`);
      }
      println(renderTable(['node', 'address', 'state'], r.nodes.map((n) => [n.name, n.address, n.state])));
      println(`inventory: ${r.inventoryPath}`);
      if (r.etcd) println(`etcd: ${r.etcd.version} (${r.etcd.tarball})`);
    });

  withLabDir(lab.command('down').description('power off every node, unmount, remove the bridge; leaves nothing running'))
    .exitOverride()
    .action(async (o: LabCliOptions) => {
      const r = await labDown(labOpts(o));
      const bridge = r.bridge === 'removed' ? 'bridge removed' : r.bridge === 'absent' ? 'no bridge' : `bridge kept: other interfaces on it (${r.bridge.join(', ')})`;
      info(r.stopped.length ? `lab: powered off ${r.stopped.join(', ')}; ${bridge}` : `lab: no node was running; ${bridge}`);
    });

  withLabDir(lab.command('status').description('the nodes, their addresses and states'))
    .option('--json', 'one JSON document on stdout, on failure too: {"ok": false, "error": …}')
    .exitOverride()
    .action(async (o: LabCliOptions) => {
      const s = await labStatus(labOpts(o));
      if (o.json) {
        printJson({ inventory: s.inventory, nodes: s.nodes });
        return;
      }
      if (s.nodes.length === 0) {
        println(`no lab in ${s.dir} (run 'hardway lab up')`);
        return;
      }
      println(renderTable(['node', 'address', 'state'], s.nodes.map((n) => [n.name, n.address, n.state])));
      println(`inventory: ${s.inventory}`);
    });

  const nodeArg = (cmd: Command) => withLabDir(cmd.argument('<node>', 'node name (controller-0…)')).exitOverride();
  nodeArg(lab.command('stop').description('power a node off, keeping its files')).action(async (name: string, o: LabCliOptions) => {
    await stopNode(o.dir, name);
    info(`lab: ${name} powered off`);
  });
  nodeArg(lab.command('start').description('boot a stopped node again')).action(async (name: string, o: LabCliOptions) => {
    await startNode(o.dir, name);
    info(`lab: ${name} is up`);
  });
  nodeArg(lab.command('cut').description("cut a node's network link (host side of its veth down)")).action(async (name: string, o: LabCliOptions) => {
    await setLink(o.dir, name, false);
    info(`lab: ${name}'s link is cut`);
  });
  nodeArg(lab.command('restore').description("restore a node's network link")).action(async (name: string, o: LabCliOptions) => {
    await setLink(o.dir, name, true);
    info(`lab: ${name}'s link is restored`);
  });
  for (const c of lab.commands) c.exitOverride();
}
