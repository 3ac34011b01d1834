/**
 * Keeps answers that come back out of order from undoing newer ones: each
 * request takes a ticket when it is sent; an answer is taken only when no
 * answer of a later ticket has been taken already.
 */
export class LatestAnswer {
  private issued = 0;
  private taken = 0;

  /** A ticket for a request sent now. */
  ticket(): number {
    return ++this.issued;
  }

  /** True (and remembered) when the answer of `ticket` is still the newest. */
  take(ticket: number): boolean {
    if (ticket < this.taken) return false;
    this.taken = ticket;
    return true;
  }

  /** True when nothing newer than `ticket` has been taken (for errors, which change nothing). */
  current(ticket: number): boolean {
    return ticket >= this.taken;
  }
}
