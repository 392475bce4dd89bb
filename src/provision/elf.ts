import { open } from 'node:fs/promises';

/**
 * Which CPU an executable is for, from its ELF header (e_machine at byte 18, in the file's byte order), named as
 * `uname -m` names it and as etcd's release tarballs do (`linux-amd64`, `linux-arm64`…). Pure but for reading
 * 20 bytes.
 */

export interface Arch {
  /** `uname -m`: x86_64, aarch64, ppc64le, s390x. */
  uname: string;
  /** The name in etcd's release tarballs: amd64, arm64, ppc64le, s390x. */
  release: string;
}

const BY_MACHINE: Record<number, Arch> = {
  0x3e: { uname: 'x86_64', release: 'amd64' },
  0xb7: { uname: 'aarch64', release: 'arm64' },
  0x15: { uname: 'ppc64le', release: 'ppc64le' },
  0x16: { uname: 's390x', release: 's390x' },
};

/** `uname -m` as etcd's releases name the architecture (arm64 machines say aarch64 or arm64). */
export function archOfUname(uname: string): Arch | undefined {
  const u = uname.trim();
  return Object.values(BY_MACHINE).find((a) => a.uname === u || a.release === u);
}

/** The architecture of an ELF header, or undefined when the bytes are not an ELF file of a known CPU. */
export function elfArch(head: Uint8Array): Arch | undefined {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
  const little = head[5] === 1;
  const machine = little ? head[18]! | (head[19]! << 8) : (head[18]! << 8) | head[19]!;
  return BY_MACHINE[machine];
}

export async function elfArchOfFile(file: string): Promise<Arch | undefined> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    return elfArch(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The release a node needs: `etcd-v3.6.5-linux-arm64.tar.gz`. */
export const releaseName = (version: string, arch: Arch) => `etcd-v${version}-linux-${arch.release}.tar.gz`;
