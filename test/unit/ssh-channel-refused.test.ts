import { describe, expect, it } from 'vitest';
import { channelRefusedText } from '../../src/ssh/ssh2-remote.js';

describe('a command that could not start', () => {
  it("says a connection lost as such, naming the node, and any other refusal as ssh2 gave it", () => {
    expect(channelRefusedText('controller-1', new Error('No response from server'))).toBe(
      'controller-1: cannot start a command: the SSH connection was lost (the node stopped answering: is it down, or its link?)',
    );
    expect(channelRefusedText('controller-2', new Error('(SSH) Channel open failure: open failed'))).toBe('controller-2: cannot start a command: (SSH) Channel open failure: open failed');
  });
});
