import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/ssh/slots.js';

describe('commands at once over one connection', () => {
  it('never runs more than its size, starts the waiting in order, and a place given back twice counts once', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = async (i: number) => {
      const giveBack = await slots.take();
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 2 + (i % 3)));
      running--;
      giveBack();
      giveBack();
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6].map(task));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // All given back: two at once again without waiting.
    const [a, b] = await Promise.all([slots.take(), slots.take()]);
    a();
    b();
  });
});
