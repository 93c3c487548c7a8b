// Who founds a new cluster's groups when the operator gave a count (`expect: N`) instead of
// names. Every node asks the peers it sees for their founders: a node that has founders already
// (it founded, or joined) answers with them and the asker adopts them; a node still searching
// answers null. A node founds only when it sees exactly N nodes (itself included), all of them
// searching, and the same N in two rounds in a row: then the founders are those N names, which
// every one of them computes alike. Seeing more than N searching nodes is never resolved by a
// pick (two nodes could pick differently): it waits, and reports why.
//
// Pure: the host feeds answers and rounds in, and reads the decision.

export type FounderDecision =
  | { readonly type: 'adopt'; readonly voters: readonly string[]; readonly from: string }
  | { readonly type: 'found'; readonly voters: readonly string[] }
  | { readonly type: 'wait'; readonly why: string };

export class FounderSearch {
  readonly #answers = new Map<string, readonly string[] | null>();
  #lastSet = '';

  constructor(
    readonly self: string,
    readonly expect: number,
  ) {}

  /** A peer's answer: its founders, or null while it searches too. */
  answer(from: string, voters: readonly string[] | null): void {
    this.#answers.set(from, voters);
  }

  /** A peer went away: its answer no longer counts. */
  lost(node: string): void {
    this.#answers.delete(node);
  }

  /** One round, with the peers up now. */
  round(up: readonly string[]): FounderDecision {
    for (const node of up) {
      const a = this.#answers.get(node);
      if (a !== undefined && a !== null) return { type: 'adopt', voters: a, from: node };
    }
    const seen = [...new Set([this.self, ...up])].sort();
    const key = seen.join(',');
    const stable = key === this.#lastSet;
    this.#lastSet = key;
    if (seen.length < this.expect) return { type: 'wait', why: `${seen.length} of ${this.expect} nodes up` };
    if (seen.length > this.expect)
      return { type: 'wait', why: `${seen.length} new nodes up, expected ${this.expect}: name the voters instead` };
    const silent = up.filter((n) => !this.#answers.has(n));
    if (silent.length > 0) return { type: 'wait', why: `waiting for ${silent.join(', ')} to answer` };
    if (!stable) return { type: 'wait', why: 'the same nodes must be seen twice' };
    return { type: 'found', voters: seen };
  }
}
