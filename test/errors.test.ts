/**
 * Every error of DESIGN §3 and docs/api-decisions.md: the error class, a message that names the
 * argument (and the index of a bad value), and — for objects — that a rejected call leaves the
 * object exactly as it was (F's bytes, steps, examples, factorizations and a precondition result,
 * bit for bit).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, initSync, linalg, NotPositiveDefiniteError } from '../src/index.js';
import { FLOAT_TYPES, Rng, expectSameBits, randomMatrix, randomSPD, typeName, type FloatArray } from './util.js';

// at load time: some describe blocks build their fixtures while the tests are collected
initSync();
beforeAll(() => {
  initSync(); // idempotent
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

/** Things that are not float typed arrays. */
const NOT_FLOAT_ARRAYS: [string, () => unknown][] = [
  ['Array', () => [1, 2, 3, 4]],
  ['Int32Array', () => new Int32Array(4)],
  ['Uint8Array', () => new Uint8Array(4)],
  ['Float32Array-like object', () => ({ length: 4, 0: 1, 1: 2, 2: 3, 3: 4 })],
  ['DataView', () => new DataView(new ArrayBuffer(16))],
  ['null', () => null],
  ['undefined', () => undefined],
  ['number', () => 4],
];

const BAD_SIZES: unknown[] = [-1, 2.5, NaN, Infinity, -Infinity];
const BAD_SCALARS: unknown[] = [NaN, Infinity, -Infinity];

/** Asserts fn throws an instance of Cls whose message matches every pattern. */
function expectThrow(fn: () => unknown, Cls: new (...a: never[]) => Error, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(Cls);
  const msg = (err as Error).message;
  for (const p of patterns) expect(msg).toMatch(p);
}

/** Positions of a bad value in an array of length len: first, second, middle, last. */
function badPositions(len: number): number[] {
  return [...new Set([0, 1, len >> 1, len - 1].filter((i) => i >= 0 && i < len))];
}

const BAD_VALUES = [NaN, Infinity, -Infinity];

describe.each(types)('linalg errors %s', (_name, Type) => {
  const Other = Type === Float32Array ? Float64Array : Float32Array;
  const rng = new Rng(1);
  const d = 5;
  const n = 3;

  describe('syrk', () => {
    it('TypeError for G that is not a float typed array', () => {
      for (const [what, make] of NOT_FLOAT_ARRAYS) {
        expectThrow(() => linalg.syrk(make() as FloatArray, 2, 2), TypeError, /\bG\b/);
        void what;
      }
    });

    it('RangeError naming n or d for bad sizes', () => {
      const G = randomMatrix(rng, n, d, Type);
      for (const bad of BAD_SIZES) {
        expectThrow(() => linalg.syrk(G, bad as number, d), RangeError, /\bn\b/);
        expectThrow(() => linalg.syrk(G, n, bad as number), RangeError, /\bd\b/);
      }
    });

    it('RangeError naming G, its length and n·d on a length mismatch', () => {
      const G = randomMatrix(rng, n, d, Type);
      expectThrow(() => linalg.syrk(G, n, d + 1), RangeError, /\bG\b/, /\b15\b/, /\b18\b/);
      expectThrow(() => linalg.syrk(G.subarray(1), n, d), RangeError, /\bG\b/, /\b14\b/, /\b15\b/);
      expectThrow(() => linalg.syrk(new Type(0), 1, 1), RangeError, /\bG\b/);
    });

    it('RangeError naming G and the index of a non-finite value', () => {
      for (const bad of BAD_VALUES) {
        for (const k of badPositions(n * d)) {
          const G = randomMatrix(rng, n, d, Type);
          G[k] = bad;
          expectThrow(() => linalg.syrk(G, n, d), RangeError, new RegExp(`\\bG\\[${k}\\]`));
        }
      }
    });

    it('RangeError naming alpha / beta for non-finite values', () => {
      const G = randomMatrix(rng, n, d, Type);
      for (const bad of [...BAD_SCALARS, '1', null]) {
        expectThrow(() => linalg.syrk(G, n, d, { alpha: bad as number }), RangeError, /alpha/);
        expectThrow(() => linalg.syrk(G, n, d, { beta: bad as number, out: new Type(d * d) }), RangeError, /beta/);
      }
    });

    it('out: TypeError for the other float type or a non-float array, RangeError for a bad length', () => {
      const G = randomMatrix(rng, n, d, Type);
      expectThrow(() => linalg.syrk(G, n, d, { out: new Other(d * d) as never }), TypeError, /\bout\b/);
      expectThrow(() => linalg.syrk(G, n, d, { out: new Array(d * d).fill(0) as never }), TypeError, /\bout\b/);
      expectThrow(() => linalg.syrk(G, n, d, { out: new Type(d * d - 1) }), RangeError, /\bout\b/);
      expectThrow(() => linalg.syrk(G, n, d, { out: new Type(d * d + 1) }), RangeError, /\bout\b/);
    });

    it('out read with beta ≠ 0: a NaN in it is rejected and out is left untouched', () => {
      const G = randomMatrix(rng, n, d, Type);
      const out = randomSPD(rng, d, Type);
      out[7] = NaN;
      const before = out.slice();
      expectThrow(() => linalg.syrk(G, n, d, { beta: 1, out }), RangeError, /\bout\b/, /\b7\b/);
      expectSameBits(out, before, 'out after a rejected call');
    });

    it('a rejected call leaves out untouched (bad G value)', () => {
      const G = randomMatrix(rng, n, d, Type);
      G[n * d - 1] = NaN;
      const out = new Type(d * d).fill(3);
      expect(() => linalg.syrk(G, n, d, { out })).toThrow(RangeError);
      expect(Array.from(out)).toEqual(new Array(d * d).fill(3));
    });

    it('RangeError naming an unknown option', () => {
      const G = randomMatrix(rng, n, d, Type);
      expectThrow(() => linalg.syrk(G, n, d, { alhpa: 2 } as never), RangeError, /alhpa/);
      expectThrow(() => linalg.syrk(G, n, d, { shift: 2 } as never), RangeError, /shift/);
    });
  });

  describe('cholesky', () => {
    it('TypeError for A that is not a float typed array', () => {
      for (const [, make] of NOT_FLOAT_ARRAYS) expectThrow(() => linalg.cholesky(make() as FloatArray, 2), TypeError, /\bA\b/);
    });

    it('RangeError for bad d and length mismatches', () => {
      const A = randomSPD(rng, d, Type);
      for (const bad of BAD_SIZES) expectThrow(() => linalg.cholesky(A, bad as number), RangeError, /\bd\b/);
      expectThrow(() => linalg.cholesky(A, d - 1), RangeError, /\bA\b/, /\b25\b/, /\b16\b/);
      expectThrow(() => linalg.cholesky(A.subarray(1), d), RangeError, /\bA\b/, /\b24\b/);
    });

    it('RangeError naming A[k] for a non-finite value in the lower triangle', () => {
      for (const bad of BAD_VALUES) {
        // lower-triangle positions: (0,0), (1,0), (2,1), (d−1,d−1) — the last element
        for (const k of [0, d, 2 * d + 1, d * d - 1]) {
          const A = randomSPD(rng, d, Type);
          A[k] = bad;
          expectThrow(() => linalg.cholesky(A, d), RangeError, new RegExp(`\\bA\\[${k}\\]`));
        }
      }
    });

    it('RangeError naming shift; unknown options; out type and length', () => {
      const A = randomSPD(rng, d, Type);
      for (const bad of [...BAD_SCALARS, '1']) expectThrow(() => linalg.cholesky(A, d, { shift: bad as number }), RangeError, /shift/);
      expectThrow(() => linalg.cholesky(A, d, { nrhs: 1 } as never), RangeError, /nrhs/);
      expectThrow(() => linalg.cholesky(A, d, { out: new Other(d * d) as never }), TypeError, /\bout\b/);
      expectThrow(() => linalg.cholesky(A, d, { out: new Type(d) }), RangeError, /\bout\b/);
    });

    it('NotPositiveDefiniteError extends Error, has name and pivot', () => {
      const A = new Type([1, 0, 0, 0, -1, 0, 0, 0, 1]);
      let err: unknown;
      try {
        linalg.cholesky(A, 3);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotPositiveDefiniteError);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('NotPositiveDefiniteError');
      expect((err as NotPositiveDefiniteError).pivot).toBe(2);
    });
  });

  describe('choleskySolve and solveSPD', () => {
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);

    it('TypeError for L, A or B that is not a float typed array', () => {
      const B = randomMatrix(rng, 1, d, Type);
      for (const [, make] of NOT_FLOAT_ARRAYS) {
        expectThrow(() => linalg.choleskySolve(make() as FloatArray, d, B), TypeError, /\bL\b/);
        expectThrow(() => linalg.choleskySolve(L, d, make() as FloatArray), TypeError, /\bB\b/);
        expectThrow(() => linalg.solveSPD(make() as FloatArray, d, B), TypeError, /\bA\b/);
        expectThrow(() => linalg.solveSPD(A, d, make() as FloatArray), TypeError, /\bB\b/);
      }
    });

    it('RangeError for bad d, nrhs and lengths', () => {
      const B = randomMatrix(rng, 2, d, Type);
      for (const bad of BAD_SIZES) {
        expectThrow(() => linalg.choleskySolve(L, bad as number, B), RangeError, /\bd\b/);
        expectThrow(() => linalg.choleskySolve(L, d, B, { nrhs: bad as number }), RangeError, /nrhs/);
        expectThrow(() => linalg.solveSPD(A, d, B, { nrhs: bad as number }), RangeError, /nrhs/);
      }
      expectThrow(() => linalg.choleskySolve(L, d, B, { nrhs: 3 }), RangeError, /\bB\b/, /\b10\b/, /\b15\b/);
      expectThrow(() => linalg.choleskySolve(L, d, B.subarray(1)), RangeError, /\bB\b/, /\b9\b/);
      expectThrow(() => linalg.solveSPD(A, d, B.subarray(1)), RangeError, /\bB\b/);
      expectThrow(() => linalg.choleskySolve(L.subarray(1), d, B), RangeError, /\bL\b/);
      expectThrow(() => linalg.solveSPD(A.subarray(2), d, B), RangeError, /\bA\b/);
    });

    it('RangeError naming B[k] / L[k] / A[k] for non-finite values', () => {
      for (const bad of BAD_VALUES) {
        for (const k of badPositions(2 * d)) {
          const B = randomMatrix(rng, 2, d, Type);
          B[k] = bad;
          expectThrow(() => linalg.choleskySolve(L, d, B), RangeError, new RegExp(`\\bB\\[${k}\\]`));
          expectThrow(() => linalg.solveSPD(A, d, B), RangeError, new RegExp(`\\bB\\[${k}\\]`));
        }
        const B = randomMatrix(rng, 1, d, Type);
        for (const k of [0, d, d * d - 1]) {
          const L2 = L.slice();
          L2[k] = bad;
          expectThrow(() => linalg.choleskySolve(L2, d, B), RangeError, new RegExp(`\\bL\\[${k}\\]`));
          const A2 = A.slice();
          A2[k] = bad;
          expectThrow(() => linalg.solveSPD(A2, d, B), RangeError, new RegExp(`\\bA\\[${k}\\]`));
        }
      }
    });

    it('B of the other type whose values overflow f32 is rejected as non-finite', () => {
      if (Type !== Float32Array) return;
      const B = randomMatrix(rng, 1, d, Float64Array);
      B[3] = 1e300;
      expectThrow(() => linalg.choleskySolve(L, d, B), RangeError, /\bB\[3\]/);
      expectThrow(() => linalg.solveSPD(A, d, B), RangeError, /\bB\[3\]/);
    });

    it('RangeError when L has a diagonal entry ≤ 0 (not a Cholesky factor)', () => {
      const B = randomMatrix(rng, 1, d, Type);
      for (const v of [0, -1, -0]) {
        for (const i of [0, 2, d - 1]) {
          const L2 = L.slice();
          L2[i * d + i] = v;
          expectThrow(() => linalg.choleskySolve(L2, d, B), RangeError, /\bL\b/);
        }
      }
    });

    it('out: type and length; unknown options; shift', () => {
      const B = randomMatrix(rng, 2, d, Type);
      expectThrow(() => linalg.choleskySolve(L, d, B, { out: new Other(2 * d) as never }), TypeError, /\bout\b/);
      expectThrow(() => linalg.choleskySolve(L, d, B, { out: new Type(d) }), RangeError, /\bout\b/);
      expectThrow(() => linalg.solveSPD(A, d, B, { out: new Type(2 * d + 1) }), RangeError, /\bout\b/);
      expectThrow(() => linalg.solveSPD(A, d, B, { out: new Int32Array(2 * d) as never }), TypeError, /\bout\b/);
      expectThrow(() => linalg.choleskySolve(L, d, B, { shift: 1 } as never), RangeError, /shift/);
      expectThrow(() => linalg.solveSPD(A, d, B, { nrsh: 1 } as never), RangeError, /nrsh/);
      for (const bad of BAD_SCALARS) expectThrow(() => linalg.solveSPD(A, d, B, { shift: bad as number }), RangeError, /shift/);
    });

    it('a rejected call leaves B and out untouched', () => {
      const B = randomMatrix(rng, 2, d, Type);
      B[2 * d - 1] = NaN;
      const before = B.slice();
      expect(() => linalg.choleskySolve(L, d, B, { out: B })).toThrow(RangeError);
      expectSameBits(B, before, 'B (out = B)');
      const out = new Type(2 * d).fill(5);
      expect(() => linalg.solveSPD(A, d, B, { out })).toThrow(RangeError);
      expect(Array.from(out)).toEqual(new Array(2 * d).fill(5));
    });
  });

  describe('choleskyFactor', () => {
    it('construction errors', () => {
      const A = randomSPD(rng, d, Type);
      for (const [, make] of NOT_FLOAT_ARRAYS) expectThrow(() => linalg.choleskyFactor(make() as FloatArray, d), TypeError, /\bA\b/);
      for (const bad of BAD_SIZES) expectThrow(() => linalg.choleskyFactor(A, bad as number), RangeError, /\bd\b/);
      expectThrow(() => linalg.choleskyFactor(A, d + 1), RangeError, /\bA\b/);
      for (const bad of BAD_SCALARS) expectThrow(() => linalg.choleskyFactor(A, d, { shift: bad as number }), RangeError, /shift/);
      expectThrow(() => linalg.choleskyFactor(A, d, { out: new Type(d * d) } as never), RangeError, /\bout\b/);
      const A2 = A.slice();
      A2[d * d - 1] = NaN;
      expectThrow(() => linalg.choleskyFactor(A2, d), RangeError, new RegExp(`\\bA\\[${d * d - 1}\\]`));
      expectThrow(() => linalg.choleskyFactor(new Type(d * d), d), NotPositiveDefiniteError);
    });

    it('rejected solves and lower(out) leave the factor exactly as it was', () => {
      const A = randomSPD(rng, d, Type);
      const chol = linalg.choleskyFactor(A, d);
      const b = randomMatrix(rng, 1, d, Type);
      const x0 = chol.solve(b);
      const L0 = chol.lower();
      const attempts: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
        [() => chol.solve([1, 2, 3, 4, 5] as never), TypeError, /\bB\b/],
        [() => chol.solve(null as never), TypeError, /\bB\b/],
        [() => chol.solve(new Type(d + 1)), RangeError, /\bB\b/],
        [() => chol.solve(new Type(2 * d), { nrhs: 3 }), RangeError, /\bB\b/],
        [() => chol.solve(b, { nrhs: -1 }), RangeError, /nrhs/],
        [() => chol.solve(b, { nrhs: 0.5 }), RangeError, /nrhs/],
        [() => chol.solve(b, { out: new Other(d) as never }), TypeError, /\bout\b/],
        [() => chol.solve(b, { out: new Type(d + 2) }), RangeError, /\bout\b/],
        [() => chol.solve(b, { shift: 1 } as never), RangeError, /shift/],
        [() => chol.lower(new Other(d * d) as never), TypeError, /\bout\b/],
        [() => chol.lower(new Type(d * d - 1)), RangeError, /\bout\b/],
      ];
      for (const bad of BAD_VALUES) {
        const B = b.slice();
        B[d - 1] = bad;
        attempts.push([() => chol.solve(B), RangeError, new RegExp(`\\bB\\[${d - 1}\\]`)]);
        const B2 = B.slice();
        attempts.push([() => chol.solve(B2, { out: B2 }), RangeError, /\bB\b/]);
      }
      for (const [fn, Cls, re] of attempts) {
        expectThrow(fn, Cls, re);
        expectSameBits(chol.solve(b), x0, 'solve after a rejected call');
        expectSameBits(chol.lower(), L0, 'lower after a rejected call');
      }
      // a separate out is untouched by a rejected solve
      const Bbad = b.slice();
      Bbad[0] = NaN;
      const out = new Type(d).fill(7);
      expect(() => chol.solve(Bbad, { out })).toThrow(RangeError);
      expect(Array.from(out)).toEqual(new Array(d).fill(7));
      chol.dispose();
      expectThrow(() => chol.solve(b), Error, /disposed/);
    });
  });
});

describe('EmpiricalFisher constructor errors', () => {
  it('d must be an integer ≥ 1', () => {
    for (const bad of [0, ...BAD_SIZES, '3', null]) expectThrow(() => new EmpiricalFisher(bad as number), RangeError, /\bd\b/);
  });

  it('damping must be finite and ≥ 0', () => {
    for (const bad of [-1, -1e-300, NaN, Infinity, -Infinity, '1']) {
      expectThrow(() => new EmpiricalFisher(3, { damping: bad as number }), RangeError, /damping/);
    }
  });

  it('decay must be in [0, 1)', () => {
    for (const bad of [-0.1, 1, 1.5, NaN, Infinity, -Infinity]) {
      expectThrow(() => new EmpiricalFisher(3, { decay: bad as number }), RangeError, /decay/);
    }
  });

  it('precision must be f32 or f64', () => {
    for (const bad of ['f16', 'F32', 'float32', 'double', 32]) {
      expectThrow(() => new EmpiricalFisher(3, { precision: bad as never }), RangeError, /precision/);
    }
  });

  it('null is not a valid option value (only undefined means "the default")', () => {
    // api-decisions: precision ∈ {'f32','f64'}, unknown representation → RangeError
    expectThrow(() => new EmpiricalFisher(3, { precision: null as never }), RangeError, /precision/);
    expectThrow(() => new EmpiricalFisher(3, { representation: null as never }), RangeError, /representation/);
    expect(() => new EmpiricalFisher(3, { biasCorrection: null as never }), 'biasCorrection: null').toThrow(/biasCorrection/);
  });

  it('an unknown representation is a RangeError naming it', () => {
    for (const bad of ['sparse', 'Dense', '', 7]) {
      expectThrow(() => new EmpiricalFisher(3, { representation: bad as never }), RangeError, /representation/);
    }
  });

  it('an unknown option is a RangeError naming the option', () => {
    expectThrow(() => new EmpiricalFisher(3, { dampening: 1 } as never), RangeError, /dampening/);
    expectThrow(() => new EmpiricalFisher(3, { lr: 0.1 } as never), RangeError, /\blr\b/);
  });

  it('valid edge values are accepted', () => {
    const a = new EmpiricalFisher(1, { damping: 0, decay: 0 });
    const b = new EmpiricalFisher(2, { decay: 0.999999, precision: 'f64', representation: 'auto' });
    expect(a.damping).toBe(0);
    expect(b.decay).toBe(0.999999);
    a.dispose();
    b.dispose();
  });
});

describe.each(types)('EmpiricalFisher: a rejected call changes nothing (%s)', (_name, Type) => {
  const precision = typeName(Type);
  const Other = Type === Float32Array ? Float64Array : Float32Array;
  const d = 7;

  interface Snapshot {
    dense: FloatArray;
    steps: number;
    examples: number;
    factorizations: number;
    damping: number;
    effectiveDamping: number;
    x: FloatArray;
  }

  function setup(decay: number): { F: EmpiricalFisher; g: FloatArray; rng: Rng } {
    const rng = new Rng(99);
    const F = new EmpiricalFisher(d, { precision, decay, damping: 0.05 });
    F.update(randomMatrix(rng, 4, d, Type), 4);
    F.update(randomMatrix(rng, 6, d, Type), 6);
    const g = randomMatrix(rng, 1, d, Type);
    F.precondition(g); // a valid cached factor
    return { F, g, rng };
  }

  function snapshot(F: EmpiricalFisher, g: FloatArray): Snapshot {
    // factorizations is read before precondition: a snapshot must not itself refactor
    const factorizations = F.factorizations;
    const s: Snapshot = {
      dense: F.toDense(),
      steps: F.steps,
      examples: F.examples,
      factorizations,
      damping: F.damping,
      effectiveDamping: F.effectiveDamping,
      x: F.precondition(g),
    };
    expect(F.factorizations, 'taking a snapshot refactored').toBe(factorizations);
    return s;
  }

  function expectUnchanged(F: EmpiricalFisher, g: FloatArray, before: Snapshot, what: string): void {
    const after = snapshot(F, g);
    expectSameBits(after.dense, before.dense, `${what}: F`);
    expect(after.steps, `${what}: steps`).toBe(before.steps);
    expect(after.examples, `${what}: examples`).toBe(before.examples);
    expect(after.factorizations, `${what}: factorizations`).toBe(before.factorizations);
    expect(after.damping, `${what}: damping`).toBe(before.damping);
    expect(after.effectiveDamping, `${what}: effectiveDamping`).toBe(before.effectiveDamping);
    expectSameBits(after.x, before.x, `${what}: precondition`);
  }

  it.each([0, 0.9])('update (decay %s): bad G, n or a non-finite value anywhere in the batch', (decay) => {
    const { F, g, rng } = setup(decay);
    const before = snapshot(F, g);
    const n = 5;
    const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp[]][] = [];
    for (const [what, make] of NOT_FLOAT_ARRAYS) cases.push([`G ${what}`, () => F.update(make() as FloatArray, 1), TypeError, [/\bG\b/]]);
    for (const bad of [0, ...BAD_SIZES]) cases.push([`n = ${String(bad)}`, () => F.update(randomMatrix(rng, 1, d, Type), bad as number), RangeError, [/\bn\b/]]);
    cases.push(['G too short', () => F.update(new Type(n * d - 1), n), RangeError, [/\bG\b/, /\b34\b/, /\b35\b/]]);
    cases.push(['G too long', () => F.update(new Type(n * d + d), n), RangeError, [/\bG\b/]]);
    for (const bad of BAD_VALUES) {
      for (const k of [0, 1, d, (n * d) >> 1, n * d - 2, n * d - 1]) {
        const G = randomMatrix(rng, n, d, Type);
        G[k] = bad;
        cases.push([`G[${k}] = ${bad}`, () => F.update(G, n), RangeError, [new RegExp(`\\bG\\[${k}\\]`)]]);
      }
    }
    if (Type === Float32Array) {
      const G = randomMatrix(rng, n, d, Other);
      G[n * d - 1] = 1e39; // finite in f64, ∞ in f32
      cases.push(['G (f64) overflowing f32', () => F.update(G, n), RangeError, [new RegExp(`\\bG\\[${n * d - 1}\\]`)]]);
    }
    for (const [what, fn, Cls, res] of cases) {
      expectThrow(fn, Cls, ...res);
      expectUnchanged(F, g, before, what);
    }
    F.dispose();
  });

  it('precondition: bad g, bad out, a non-finite g', () => {
    const { F, g, rng } = setup(0.5);
    const before = snapshot(F, g);
    const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp[]][] = [];
    for (const [what, make] of NOT_FLOAT_ARRAYS) cases.push([`g ${what}`, () => F.precondition(make() as FloatArray), TypeError, [/\bg\b/]]);
    cases.push(['g short', () => F.precondition(new Type(d - 1)), RangeError, [/\bg\b/, /\b6\b/, /\b7\b/]]);
    cases.push(['g long', () => F.precondition(new Type(d + 1)), RangeError, [/\bg\b/]]);
    cases.push(['out other type', () => F.precondition(g, new Other(d) as never), TypeError, [/\bout\b/]]);
    cases.push(['out Array', () => F.precondition(g, [0, 0, 0, 0, 0, 0, 0] as never), TypeError, [/\bout\b/]]);
    cases.push(['out short', () => F.precondition(g, new Type(d - 1)), RangeError, [/\bout\b/]]);
    for (const bad of BAD_VALUES) {
      for (const k of [0, 3, d - 1]) {
        const g2 = randomMatrix(rng, 1, d, Type);
        g2[k] = bad;
        cases.push([`g[${k}] = ${bad}`, () => F.precondition(g2), RangeError, [new RegExp(`\\bg\\[${k}\\]`)]]);
        const g3 = g2.slice();
        const g3before = g3.slice();
        cases.push([
          `g[${k}] = ${bad}, out = g`,
          () => {
            try {
              return F.precondition(g3, g3);
            } finally {
              expectSameBits(g3, g3before, 'g with out = g after a rejected call');
            }
          },
          RangeError,
          [/\bg\b/],
        ]);
      }
    }
    for (const [what, fn, Cls, res] of cases) {
      expectThrow(fn, Cls, ...res);
      expectUnchanged(F, g, before, what);
    }
    // a separate out is untouched by a rejected precondition
    const gBad = g.slice();
    gBad[d - 1] = Infinity;
    const out = new Type(d).fill(7);
    expect(() => F.precondition(gBad, out)).toThrow(RangeError);
    expect(Array.from(out)).toEqual(new Array(d).fill(7));
    F.dispose();
  });

  it('quadratic and toDense: bad arguments', () => {
    const { F, g, rng } = setup(0);
    const before = snapshot(F, g);
    const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp[]][] = [];
    for (const [what, make] of NOT_FLOAT_ARRAYS) cases.push([`v ${what}`, () => F.quadratic(make() as FloatArray), TypeError, [/\bv\b/]]);
    cases.push(['v short', () => F.quadratic(new Type(d - 1)), RangeError, [/\bv\b/]]);
    for (const bad of BAD_VALUES) {
      const v = randomMatrix(rng, 1, d, Type);
      v[d - 1] = bad;
      cases.push([`v[${d - 1}] = ${bad}`, () => F.quadratic(v), RangeError, [new RegExp(`\\bv\\[${d - 1}\\]`)]]);
    }
    cases.push(['toDense out other type', () => F.toDense(new Other(d * d) as never), TypeError, [/\bout\b/]]);
    cases.push(['toDense out short', () => F.toDense(new Type(d * d - 1)), RangeError, [/\bout\b/]]);
    cases.push(['toDense out Array', () => F.toDense(new Array(d * d).fill(0) as never), TypeError, [/\bout\b/]]);
    for (const [what, fn, Cls, res] of cases) {
      expectThrow(fn, Cls, ...res);
      expectUnchanged(F, g, before, what);
    }
    F.dispose();
  });

  it('damping setter: negative, non-finite or non-number values are rejected; damping unchanged', () => {
    const { F, g } = setup(0.9);
    const before = snapshot(F, g);
    for (const bad of [-1, -1e-12, NaN, Infinity, -Infinity, '0.1', null, undefined]) {
      expectThrow(() => {
        F.damping = bad as number;
      }, RangeError, /damping/);
      expectUnchanged(F, g, before, `damping = ${String(bad)}`);
    }
    F.dispose();
  });

  it('a NaN in a batch after many good ones: F, steps and the cached factor survive', () => {
    const rng = new Rng(5);
    const F = new EmpiricalFisher(d, { precision, decay: 0.95, damping: 0.01 });
    for (let t = 0; t < 10; t++) F.update(randomMatrix(rng, 3, d, Type), 3);
    const g = randomMatrix(rng, 1, d, Type);
    F.precondition(g);
    const before = snapshot(F, g);
    const G = randomMatrix(rng, 50, d, Type);
    G[49 * d + 6] = NaN; // the very last element of a long batch
    expect(() => F.update(G, 50)).toThrow(RangeError);
    expectUnchanged(F, g, before, 'NaN at the end of a long batch');
    // and the object keeps working: the next good batch is accumulated as if the bad one never came
    const good = randomMatrix(rng, 3, d, Type);
    F.update(good, 3);
    expect(F.steps).toBe(11);
    expect(F.examples).toBe(33);
    F.dispose();
  });
});

describe('scalars that are finite in float64 but overflow f32', () => {
  // A Float64Array value too large for f32 is rejected as non-finite (it would become ±∞ in the
  // f32 kernels); a scalar option of an f32 call is converted the same way and must be rejected
  // the same way rather than silently turning the result into ±∞ / NaN.
  const rng = new Rng(77);
  it('syrk alpha / beta on Float32Array G', () => {
    const G = randomMatrix(rng, 3, 4, Float32Array);
    expectThrow(() => linalg.syrk(G, 3, 4, { alpha: 1e39 }), RangeError, /alpha/);
    expectThrow(() => linalg.syrk(G, 3, 4, { beta: -1e39, out: new Float32Array(16).fill(1) }), RangeError, /beta/);
  });
  it('cholesky / solveSPD / choleskyFactor shift on Float32Array A', () => {
    const A = randomSPD(rng, 4, Float32Array);
    expectThrow(() => linalg.cholesky(A, 4, { shift: 1e39 }), RangeError, /shift/);
    expectThrow(() => linalg.solveSPD(A, 4, new Float32Array(4).fill(1), { shift: 1e39 }), RangeError, /shift/);
    expectThrow(() => linalg.choleskyFactor(A, 4, { shift: 1e39 }), RangeError, /shift/);
  });
  it('damping of an f32 EmpiricalFisher (constructor and setter), object unchanged', () => {
    expectThrow(() => new EmpiricalFisher(3, { damping: 1e39 }), RangeError, /damping/);
    const F = new EmpiricalFisher(3, { damping: 0.5 });
    F.update(new Float32Array([1, 2, 3, 4, 5, 6]), 2);
    expectThrow(() => {
      F.damping = 1e39;
    }, RangeError, /damping/);
    expect(F.damping).toBe(0.5);
    expectFiniteArray(F.precondition(new Float32Array([1, 1, 1])));
    F.dispose();
  });
});

function expectFiniteArray(x: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) expect(Number.isFinite(x[i]), `x[${i}] = ${x[i]}`).toBe(true);
}

describe('use after dispose', () => {
  it('EmpiricalFisher and CholeskyFactor say "disposed"', () => {
    const F = new EmpiricalFisher(3);
    F.dispose();
    expectThrow(() => F.update(new Float32Array(3), 1), Error, /disposed/);
    expectThrow(() => F.precondition(new Float32Array(3)), Error, /disposed/);
    const c = linalg.choleskyFactor(new Float64Array([4, 0, 2, 5]), 2);
    c.dispose();
    expectThrow(() => c.lower(), Error, /disposed/);
  });
});
