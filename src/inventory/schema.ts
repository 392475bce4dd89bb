import * as z from 'zod';

// A hardway run validates an inventory once: zod's compiled validators (new Function per schema) cost more to
// build (~5 ms) than they save on one parse.
z.config({ jitless: true });

/**
 * The inventory file's schema. Field names are a contract shared with other tools and tests.
 * Every object is strict: an unknown key (a typo) is an error, never silently ignored.
 */

const port = z.number().int().min(1).max(65535);

/** SSH settings that a node may override. */
const sshOverrides = {
  user: z.string().min(1).optional(),
  port: port.optional(),
  identityFile: z.string().min(1).optional(),
  sudo: z.boolean().optional(),
  jumpHost: z.string().min(1).optional(),
};

/** The architectures of etcd's release tarballs (`etcd-vX-linux-<arch>.tar.gz`). */
export const RELEASE_ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'] as const;
export type ReleaseArch = (typeof RELEASE_ARCHES)[number];

/** One value for every node, or one per architecture (`amd64: …`, `arm64: …`) for a mixed cluster. */
function perArch<T extends z.ZodType>(value: T) {
  return z.union([value, z.partialRecord(z.enum(RELEASE_ARCHES), value)]);
}

export const nodeSchema = z.strictObject({
  name: z.string(),
  address: z.string().min(1),
  internalIp: z.string().min(1).optional(),
  ...sshOverrides,
});

export const inventorySchema = z.strictObject({
  cluster: z
    .strictObject({
      token: z.string().min(1).default('etcd-cluster-0'),
      /** `new` bootstraps a cluster; `existing` joins members to one that runs. */
      initialState: z.enum(['new', 'existing']).default('new'),
    })
    .prefault({}),
  etcd: z
    .strictObject({
      version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version such as 3.4.23').default('3.4.23'),
      tarball: perArch(z.string().min(1)).optional(),
      url: perArch(z.url()).optional(),
      sha256: perArch(z.string().regex(/^[0-9a-f]{64}$/i, 'must be 64 hex digits')).optional(),
      dataDir: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/etcd'),
      heartbeatInterval: z.number().int().positive().default(100),
      electionTimeout: z.number().int().positive().default(1000),
      listenLocalhost: z.boolean().default(true),
      /**
       * false: plain HTTP, as the current edition of the guide runs its single server's etcd, on loopback only;
       * allowed for one node whose URLs never leave the machine.
       */
      tls: z.boolean().default(true),
      extraFlags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .prefault({}),
  pki: z
    .strictObject({
      dir: z.string().min(1).default('./pki'),
      keyBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).default(2048),
      validityDays: z.number().int().min(31).max(3650).default(365),
      extraSans: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      user: z.string().min(1).default('root'),
      port: port.default(22),
      identityFile: z.string().min(1).default('~/.ssh/id_ed25519'),
      knownHosts: z.string().min(1).default('~/.ssh/known_hosts'),
      sudo: z.boolean().default(false),
      jumpHost: z.string().min(1).optional(),
      /** Read ~/.ssh/config (Host aliases, User, Port, IdentityFile, ProxyJump) as OpenSSH does. */
      config: z.string().min(1).optional(),
    })
    .prefault({}),
  snapshots: z
    .strictObject({
      /** Where `snapshot save` writes and `snapshot list` looks (relative to the inventory file; made 0700). */
      dir: z.string().min(1).default('./snapshots'),
      /** How many of the snapshots hardway takes by itself (pre-upgrade) are kept per cluster token, newest first. */
      keep: z.number().int().min(1).default(10),
    })
    .prefault({}),
  /** A directory with the user's own templates (etcd.service.hbs); the built-in ones otherwise. */
  templates: z.string().min(1).optional(),
  nodes: z.array(nodeSchema).min(1, 'at least one node is needed'),
});

export type InventoryInput = z.input<typeof inventorySchema>;
export type ParsedInventory = z.output<typeof inventorySchema>;
