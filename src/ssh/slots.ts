/**
 * At most `size` things at once, the others waiting their turn in order: a place is handed straight to the next in
 * line when it is given back, so that a newcomer never slips in between and makes it `size + 1`.
 */
export class Slots {
  private taken = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Resolves once a place is ours, with the function that gives it back (once; calling it again does nothing). */
  async take(): Promise<() => void> {
    if (this.taken < this.size) this.taken++;
    else await new Promise<void>((handedOver) => this.waiting.push(handedOver));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.taken--;
    };
  }
}
