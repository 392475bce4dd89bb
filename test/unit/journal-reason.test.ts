import { describe, expect, it } from 'vitest';
import { journalReason } from '../../src/provision/roll.js';

const line = (who: string, message: string) => JSON.stringify({ SYSLOG_IDENTIFIER: who, MESSAGE: message });

describe("why a member did not come back, from its unit's journal", () => {
  it("is etcd's own last telling line, not systemd's 'Failed to start' after it, nor what it said about its peers", () => {
    const journal = [
      line('etcd', 'rejected connection from "10.240.5.12:42686" (error "EOF", ServerName "")'),
      line('etcd', 'cannot commit tx (write /var/lib/etcd/member/snap/db: no space left on device)'),
      line('systemd', 'etcd.service: Main process exited, code=exited, status=1/FAILURE'),
      line('etcd', 'failed to dial ea0c34b501995f57 on stream MsgApp v2 (context canceled)'),
      line('systemd', 'Failed to start etcd.service - etcd.'),
      'not json',
    ].join('\n');
    expect(journalReason(journal)).toBe('cannot commit tx (write /var/lib/etcd/member/snap/db: no space left on device) (its disk is full: free space there, then run hardway again)');
  });

  it("falls back on systemd's line when etcd said nothing telling, and is undefined when nobody did", () => {
    expect(journalReason([line('etcd', 'starting member a1'), line('systemd', 'etcd.service: Failed to locate executable /usr/local/bin/etcd')].join('\n'))).toBe(
      'etcd.service: Failed to locate executable /usr/local/bin/etcd',
    );
    expect(journalReason(line('etcd', 'ready to serve client requests'))).toBeUndefined();
    expect(journalReason('')).toBeUndefined();
  });

  it('says an unknown flag as etcd printed it', () => {
    expect(journalReason([line('etcd', 'unknown flag: --experimental-foo'), line('systemd', 'Failed to start etcd.service - etcd.')].join('\n'))).toBe('unknown flag: --experimental-foo');
  });
});
