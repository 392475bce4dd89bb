import { isIPv4 } from 'node:net';
import { FileError, type FileProblem } from '../errors.js';

/**
 * The guide's `machines.txt`: one machine a line, `IPV4_ADDRESS FQDN HOSTNAME [POD_SUBNET]` (the server line has no
 * subnet). Blank lines and `#` comments are skipped. Pure: text in, machines or every problem with file:line:col out.
 */

export interface Machine {
  ip: string;
  fqdn: string;
  hostname: string;
  podSubnet?: string;
  line: number;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FQDN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

function cidrProblem(value: string): string | undefined {
  const [ip, bits, extra] = value.split('/');
  if (extra !== undefined || !ip || !isIPv4(ip) || !/^\d{1,2}$/.test(bits ?? '') || Number(bits) > 32) return `'${value}' is not an IPv4 subnet such as 10.200.0.0/24`;
  return undefined;
}

/** The fields of one line with the column each starts at (1-based). */
function fields(text: string): { value: string; col: number }[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ value: m[0], col: m.index! + 1 }));
}

export function parseMachines(text: string, file: string): Machine[] {
  const problems: FileProblem[] = [];
  const machines: Machine[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const body = raw.replace(/#.*$/, '');
    const f = fields(body);
    if (!f.length) return;
    const at = (col: number, message: string) => problems.push({ file, line, col, message });
    if (f.length < 3 || f.length > 4) {
      at(f[Math.min(f.length, 4) - 1]!.col, `expected 'IPV4_ADDRESS FQDN HOSTNAME [POD_SUBNET]', found ${f.length} field${f.length === 1 ? '' : 's'}`);
      return;
    }
    const [ip, fqdn, host, subnet] = f as [{ value: string; col: number }, { value: string; col: number }, { value: string; col: number }, { value: string; col: number } | undefined];
    const before = problems.length;
    if (!isIPv4(ip.value)) at(ip.col, `'${ip.value}' is not an IPv4 address`);
    if (!FQDN.test(fqdn.value)) at(fqdn.col, `'${fqdn.value}' is not a host name (FQDN)`);
    if (!LABEL.test(host.value)) at(host.col, `'${host.value}' is not a DNS-1123 label (lower-case letters, digits and '-'): etcd member names must be`);
    const bad = subnet && cidrProblem(subnet.value);
    if (bad && subnet) at(subnet.col, bad);
    for (const [kind, v] of [['address', ip], ['hostname', host]] as const) {
      const first = seen.get(`${kind} ${v.value}`);
      if (first !== undefined) at(v.col, `duplicate ${kind} '${v.value}': line ${first} has it too`);
      else seen.set(`${kind} ${v.value}`, line);
    }
    if (problems.length === before) machines.push({ ip: ip.value, fqdn: fqdn.value, hostname: host.value, ...(subnet ? { podSubnet: subnet.value } : {}), line });
  });
  if (problems.length) throw new FileError(problems);
  return machines;
}
