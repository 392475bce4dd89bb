import { InvalidArgumentError, Option, type Command } from 'commander';
import { askCluster } from '../etcd/cluster.js';
import { withHosts } from '../engine/session.js';
import { CheckFailed, OperationError, UsageError } from '../errors.js';
import { renderValue, decodeValue, KEYS_OUTPUTS, type KeysOutput } from '../keys/decode.js';
import { ENCRYPTION_FIX, ENCRYPTION_HEAD_BYTES, encryptionReport, SECRETS_PREFIX } from '../keys/encryption.js';
import { parseRevision } from '../keys/keyspace.js';
import { diffRevisions, getKey, listKeys, type Asker } from '../keys/read.js';
import { renderDiff, renderEncryption, renderList, renderStats } from '../keys/render.js';
import { keyStats } from '../keys/stats.js';
import { printJson } from '../output.js';
import { endpointsOf } from '../etcd/etcdctl.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

/** `hardway keys`: what etcd holds, read over SSH through etcdctl on a member that answers. */

type Opts = CommonOptions & { acceptNew?: boolean };

/** Connects to the nodes, finds a member that answers, and reads through it; every connection is closed after. */
async function withCluster<T>(opts: Opts, work: (a: Asker) => Promise<T>): Promise<T> {
  const inv = await loadInventory(opts);
  return withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
    const { answer, unanswered } = await askCluster(inv, run.hosts, { isActive: () => true });
    if (!answer) {
      const why = unanswered ?? run.hosts.map((h) => `${h.node.name}: ${h.outcome.reason ?? 'not reachable'}`).join('; ');
      throw new OperationError(`no etcd member answers: ${why}`);
    }
    return work({ remote: answer.asker.remote, endpoints: endpointsOf(inv.nodes) });
  });
}

const write = (s: string | Uint8Array) => process.stdout.write(s);

function sub(keys: Command, name: string, description: string): Command {
  const cmd = keys.command(name).description(description).option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  return withJson(withInventory(cmd));
}

/** `-o`'s choices; `-o json` is refused with what to say instead: --json and -o have one meaning each. */
function keysOutput(v: string): KeysOutput {
  if ((KEYS_OUTPUTS as readonly string[]).includes(v)) return v as KeysOutput;
  if (v === 'json') throw new InvalidArgumentError("-o shows the value (summary, decoded, hex, raw); the machine output is --json, the decoded structure alone -o decoded, and a JSON value's content is in the summary.");
  throw new InvalidArgumentError(`Allowed choices are ${KEYS_OUTPUTS.join(', ')}.`);
}

const revOption = () => new Option('--rev <n>', 'at this revision (default: the current one)').argParser((v: string) => parseRevision('--rev', v));

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('what etcd holds: list, stats, get (Kubernetes values decoded), diff between revisions, secrets at rest').exitOverride();

  sub(keys, 'list [prefix]', 'the keys under PREFIX (default: all) with revisions, lease and value size, and the revision of the listing')
    .addOption(revOption())
    .action(async (prefix: string | undefined, opts: Opts & { rev?: string }) => {
      const listing = await withCluster(opts, (a) => listKeys(a, prefix ?? '', opts.rev ? { rev: opts.rev } : {}));
      if (opts.json) printJson({ prefix: prefix ?? '', revision: listing.revision, count: listing.keys.length, keys: listing.keys });
      else write(renderList(listing, prefix ?? ''));
    });

  sub(keys, 'stats [prefix]', 'per resource type: keys, bytes and the largest object; keys with a lease (events) apart').action(async (prefix: string | undefined, opts: Opts) => {
    const listing = await withCluster(opts, (a) => listKeys(a, prefix ?? ''));
    const stats = keyStats(listing.keys);
    if (opts.json) printJson({ prefix: prefix ?? '', revision: listing.revision, ...stats });
    else write(renderStats(stats, listing.revision, prefix ?? ''));
  });

  sub(keys, 'get <key>', "the value of KEY, decoded (Kubernetes protobuf, JSON, CBOR, encrypted, text; a hexdump otherwise); a JSON value's content is shown pretty-printed")
    .addOption(
      new Option('-o, --output <format>', "how the value is shown: summary (what it is, its metadata, a JSON value's content), decoded (the decoded structure as JSON), hex (hexdump -C), raw (the bytes); --json is the machine envelope (the key's metadata and the decoded value)")
        .argParser(keysOutput)
        .default('summary'),
    )
    .addOption(revOption())
    .action(async (key: string, opts: Opts & { output: KeysOutput; rev?: string }) => {
      if (key === '') throw new UsageError('KEY must not be empty');
      const { result, kv } = await withCluster(opts, (a) => getKey(a, key, opts.rev));
      if (!kv) throw new OperationError(`no such key: ${key} (at revision ${opts.rev ?? result.revision})`);
      const { value, ...meta } = kv;
      if (opts.json) printJson({ ...meta, revision: result.revision, value: decodeValue(value, { modRevision: kv.modRevision }) });
      else write(renderValue(value, opts.output, { modRevision: kv.modRevision }));
    });

  sub(keys, 'diff <rev> [rev2]', 'what changed between revision REV and REV2 (default: now): created, modified, deleted, created and deleted in between').action(
    async (revArg: string, rev2Arg: string | undefined, opts: Opts) => {
      const from = parseRevision('REV', revArg);
      const to = rev2Arg === undefined ? undefined : parseRevision('REV2', rev2Arg);
      if (to !== undefined && BigInt(to) < BigInt(from)) throw new UsageError(`REV2 (${to}) is before REV (${from})`);
      const diff = await withCluster(opts, (a) => diffRevisions(a, from, to));
      if (opts.json) printJson(diff);
      else write(renderDiff(diff));
    },
  );

  sub(keys, 'encryption', 'is every secret encrypted at rest? per provider and key; exit 1 naming those that are not').action(async (opts: Opts) => {
    const listing = await withCluster(opts, (a) => listKeys(a, SECRETS_PREFIX, { headBytes: ENCRYPTION_HEAD_BYTES }));
    const report = encryptionReport(listing.revision, listing.keys);
    if (opts.json) printJson({ ...report, ...(report.unencrypted.length ? { fix: ENCRYPTION_FIX } : {}) });
    else write(renderEncryption(report));
    if (report.unencrypted.length) throw new CheckFailed(`${report.unencrypted.length} of ${report.total} secret(s) not encrypted at rest`);
  });
}
