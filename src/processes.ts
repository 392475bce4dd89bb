/** Processes of this machine. */

/** Whether the process `pid` runs (one of another user's, which may not be signalled, runs too). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
