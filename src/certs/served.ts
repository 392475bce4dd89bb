import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Remote } from '../ssh/remote.js';

/**
 * The certificate a member presents to a NEW connection: a TLS handshake through the node's SSH connection (a TCP
 * stream forwarded from the node to its own client port), run here. etcd reads its certificate and key again for
 * each new connection (since 3.2), so this is how `pki renew` and `pki rotate-ca` prove a new leaf is in use without
 * a restart, and restart only a member that still serves the old one. The handshake checks nothing (it only looks);
 * pki.dir's leaf is offered as the client certificate when there is one, as etcd asks for one.
 */

export interface Served {
  serial: string;
  fingerprint: string;
  issuer: string;
  pem: string;
}

export interface ClientIdentity {
  cert: string;
  key: string;
}

/** What the member at host:port serves, seen from `remote`'s node; throws with the reason when it cannot be told. */
export async function servedCert(remote: Remote, host: string, port: number, client?: ClientIdentity, timeoutMs = 10_000): Promise<Served> {
  if (!remote.forward) throw new Error(`${remote.name}: this connection cannot forward a TCP stream to look at the certificate`);
  const where = `${host}:${port}`;
  const stream = (await remote.forward(host, port)) as unknown as Duplex;
  return new Promise<Served>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${where}: no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const socket = tls.connect({
      socket: stream,
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    let done = false;
    function finish(e: Error | undefined, s?: Served): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      stream.destroy();
      if (e) reject(e);
      else resolve(s!);
    }
    socket.on('secureConnect', () => {
      const raw = socket.getPeerCertificate()?.raw;
      if (!raw) return finish(new Error(`${where}: the member presented no certificate`));
      const x = new X509Certificate(raw);
      finish(undefined, { serial: x.serialNumber, fingerprint: x.fingerprint256, issuer: x.issuer.split('\n').join(', '), pem: x.toString() });
    });
    socket.on('error', (e) => finish(new Error(`${where}: ${e.message}`)));
  });
}
