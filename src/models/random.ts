/**
 * A small seeded generator for model initialisation and data shuffling.
 *
 * mulberry32: 32 bits of state, the same sequence in every JavaScript engine (only integer
 * arithmetic), good enough for initial weights and permutations. Not for cryptography.
 */
export class SeededRandom {
  private state: number;

  /** @param seed any number; its low 32 bits are the initial state */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform number in [-a, a). */
  symmetric(a: number): number {
    return a * (2 * this.uniform() - 1);
  }

  /**
   * A uniformly random permutation of 0 … n−1 (Fisher–Yates).
   * @param out [out] length n; a new Uint32Array when omitted
   * @example new SeededRandom(1).permutation(5) // e.g. Uint32Array [3, 0, 4, 1, 2]
   */
  permutation(n: number, out: Uint32Array = new Uint32Array(n)): Uint32Array {
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextU32() % (i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}
