// Elementwise pieces of a dense network's forward and backward passes (src/models): the bias
// broadcast, the activations and their derivatives, and the losses with their output gradients.
// Row-major, leading dimensions in elements, labels as i32. Each value is computed in f64 whatever
// T is (then rounded to T once), with AssemblyScript's own expm1, log1p and tanh: wasm arithmetic,
// so the same bits in every engine. Not exp/log themselves: at -O3 (shrink level 0) those read
// lookup tables from a data segment, which the threaded build must not have (README.md); exp is
// rebuilt here from expm1 on a reduced argument, log(s) for s ≥ 1 is log1p(s − 1) (exact for
// s ≤ 2, by Sterbenz).

/** activation kinds (src/models/network.ts has the same numbers) */
const TANH: i32 = 0;
const RELU: i32 = 1;
const SIGMOID: i32 = 2;

// ln 2 split so that k·LN2_HI is exact for |k| < 2^20 (fdlibm's constants), and 1/ln 2
const LN2_HI: f64 = reinterpret<f64>(0x3FE62E42FEE00000);
const LN2_LO: f64 = reinterpret<f64>(0x3DEA39EF35793C76);
const INV_LN2: f64 = reinterpret<f64>(0x3FF71547652B82FE);

/**
 * e^x for x ≤ 0: x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^x = 2^k (expm1(r) + 1), about 1 ulp.
 * Below −700 (e^x < 1e-304) it returns 0.
 */
@inline function expNonPositive(x: f64): f64 {
  if (x < -700.0) return 0.0;
  const k = nearest<f64>(x * INV_LN2);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const scale = reinterpret<f64>(<u64>(<i64>k + 1023) << 52);
  return (NativeMath.expm1(r) + 1.0) * scale;
}

/** σ(x) = 1 / (1 + e^−x) = 1 / (2 + expm1(−x)): relatively accurate for every x. */
@inline function sigmoid(x: f64): f64 {
  return 1.0 / (2.0 + NativeMath.expm1(-x));
}

@inline function act(kind: i32, x: f64): f64 {
  if (kind == TANH) return NativeMath.tanh(x);
  if (kind == RELU) return x > 0.0 ? x : 0.0;
  return sigmoid(x);
}

/** act′ from the activation's output h = act(z). */
@inline function actDerivative(kind: i32, h: f64): f64 {
  if (kind == TANH) return 1.0 - h * h;
  if (kind == RELU) return h > 0.0 ? 1.0 : 0.0;
  return h * (1.0 - h);
}

/** Each of the m rows of C (m × n) ← b (n). */
export function bias_rows<T>(m: i32, n: i32, b: usize, c: usize, ldc: i32): void {
  const S = <usize>sizeof<T>();
  const rowBytes = <usize>n * S;
  for (let i = 0; i < m; i++) memory.copy(c + <usize>i * <usize>ldc * S, b, rowBytes);
}

/** H (m × n) ← act(H) in place; kind 0 tanh, 1 relu, 2 sigmoid. */
export function activate<T>(kind: i32, m: i32, n: i32, h: usize, ldh: i32): void {
  const S = <usize>sizeof<T>();
  for (let i = 0; i < m; i++) {
    const row = h + <usize>i * <usize>ldh * S;
    for (let j = 0; j < n; j++) {
      const p = row + <usize>j * S;
      store<T>(p, <T>act(kind, <f64>load<T>(p)));
    }
  }
}

/** E (m × n) ← E ∘ act′, from H = act(Z) (m × n): back through the activation, in place. */
export function activate_backward<T>(kind: i32, m: i32, n: i32, h: usize, ldh: i32, e: usize, lde: i32): void {
  const S = <usize>sizeof<T>();
  for (let i = 0; i < m; i++) {
    const hr = h + <usize>i * <usize>ldh * S;
    const er = e + <usize>i * <usize>lde * S;
    for (let j = 0; j < n; j++) {
      const pe = er + <usize>j * S;
      store<T>(pe, <T>(<f64>load<T>(pe) * actDerivative(kind, <f64>load<T>(hr + <usize>j * S))));
    }
  }
}

/**
 * Softmax cross-entropy of m rows of logits Z (m × c) with labels y (m i32):
 * ℓ_i = log Σ_k e^{z_ik} − z_iy (shifted by max_k z_ik, so nothing overflows), and
 * E_i ← softmax(z_i) − onehot(y_i) = ∂ℓ_i/∂z_i. E may be Z (in place). Returns Σ_i ℓ_i (f64).
 */
export function softmax_xent<T>(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const er = e + <usize>i * <usize>lde * S;
    const label = load<i32>(y + (<usize>i << 2));
    let max = <f64>load<T>(zr);
    for (let k = 1; k < c; k++) max = Math.max(max, <f64>load<T>(zr + <usize>k * S));
    const shiftedLabel = <f64>load<T>(zr + <usize>label * S) - max;
    let sum = 0.0;
    // the exponentials, kept in f64 in E only when T is f64; recomputed otherwise
    for (let k = 0; k < c; k++) sum += expNonPositive(<f64>load<T>(zr + <usize>k * S) - max);
    // sum ≥ 1 (the max term is e^0)
    total += NativeMath.log1p(sum - 1.0) - shiftedLabel;
    const inv = 1.0 / sum;
    for (let k = 0; k < c; k++) {
      const pk = expNonPositive(<f64>load<T>(zr + <usize>k * S) - max) * inv;
      store<T>(er + <usize>k * S, <T>(k == label ? pk - 1.0 : pk));
    }
  }
  return total;
}

/**
 * Squared error against one-hot targets: ℓ_i = ½ Σ_k (z_ik − [k = y_i])², E_i ← z_i − onehot(y_i).
 * E may be Z. Returns Σ_i ℓ_i (f64).
 */
export function squared_error<T>(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const er = e + <usize>i * <usize>lde * S;
    const label = load<i32>(y + (<usize>i << 2));
    let s = 0.0;
    for (let k = 0; k < c; k++) {
      const r = <f64>load<T>(zr + <usize>k * S) - (k == label ? 1.0 : 0.0);
      s += r * r;
      store<T>(er + <usize>k * S, <T>r);
    }
    total += 0.5 * s;
  }
  return total;
}

/** Σ_i ℓ_i of either loss (kind 0 softmax cross-entropy, 1 squared error) without writing E. */
export function loss_sum<T>(kind: i32, m: i32, c: i32, z: usize, ldz: i32, y: usize): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const label = load<i32>(y + (<usize>i << 2));
    if (kind == 0) {
      let max = <f64>load<T>(zr);
      for (let k = 1; k < c; k++) max = Math.max(max, <f64>load<T>(zr + <usize>k * S));
      let sum = 0.0;
      for (let k = 0; k < c; k++) sum += expNonPositive(<f64>load<T>(zr + <usize>k * S) - max);
      total += NativeMath.log1p(sum - 1.0) - (<f64>load<T>(zr + <usize>label * S) - max);
    } else {
      let s = 0.0;
      for (let k = 0; k < c; k++) {
        const r = <f64>load<T>(zr + <usize>k * S) - (k == label ? 1.0 : 0.0);
        s += r * r;
      }
      total += 0.5 * s;
    }
  }
  return total;
}

// Real-valued targets T (m × c, the element type of Z), e.g. pixels in [0, 1] for an autoencoder.

/** softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^−|z|): no overflow for any z. */
@inline function softplus(z: f64): f64 {
  const a = z < 0.0 ? -z : z;
  return (z > 0.0 ? z : 0.0) + NativeMath.log1p(expNonPositive(-a));
}

/**
 * Bernoulli cross-entropy of sigmoid outputs against targets t ∈ [0, 1]:
 * ℓ_i = Σ_k −t_ik log σ(z_ik) − (1 − t_ik) log(1 − σ(z_ik)) = Σ_k softplus(z_ik) − t_ik z_ik, and
 * E_i ← σ(z_i) − t_i = ∂ℓ_i/∂z_i. E may be Z (in place). Returns Σ_i ℓ_i (f64).
 */
export function sigmoid_xent<T>(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const tr = t + <usize>i * <usize>ldt * S;
    const er = e + <usize>i * <usize>lde * S;
    for (let k = 0; k < c; k++) {
      const zk = <f64>load<T>(zr + <usize>k * S);
      const tk = <f64>load<T>(tr + <usize>k * S);
      total += softplus(zk) - tk * zk;
      store<T>(er + <usize>k * S, <T>(sigmoid(zk) - tk));
    }
  }
  return total;
}

/** Squared error against real targets: ℓ_i = ½ Σ_k (z_ik − t_ik)², E_i ← z_i − t_i. E may be Z. Returns Σ_i ℓ_i. */
export function squared_error_values<T>(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const tr = t + <usize>i * <usize>ldt * S;
    const er = e + <usize>i * <usize>lde * S;
    let s = 0.0;
    for (let k = 0; k < c; k++) {
      const r = <f64>load<T>(zr + <usize>k * S) - <f64>load<T>(tr + <usize>k * S);
      s += r * r;
      store<T>(er + <usize>k * S, <T>r);
    }
    total += 0.5 * s;
  }
  return total;
}

/** Σ_i ℓ_i against real targets (kind 1 squared error, 2 Bernoulli cross-entropy) without writing E. */
export function loss_sum_values<T>(kind: i32, m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32): f64 {
  const S = <usize>sizeof<T>();
  let total = 0.0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const tr = t + <usize>i * <usize>ldt * S;
    let s = 0.0;
    for (let k = 0; k < c; k++) {
      const zk = <f64>load<T>(zr + <usize>k * S);
      const tk = <f64>load<T>(tr + <usize>k * S);
      if (kind == 2) {
        s += softplus(zk) - tk * zk;
      } else {
        const r = zk - tk;
        s += 0.5 * r * r;
      }
    }
    total += s;
  }
  return total;
}

/** How many of the m·c entries have z > threshold exactly when their target t > ½. */
export function count_agree<T>(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, threshold: f64): i32 {
  const S = <usize>sizeof<T>();
  let agree = 0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    const tr = t + <usize>i * <usize>ldt * S;
    for (let k = 0; k < c; k++) {
      if ((<f64>load<T>(zr + <usize>k * S) > threshold) == (<f64>load<T>(tr + <usize>k * S) > 0.5)) agree++;
    }
  }
  return agree;
}

/** How many of the m rows of Z (m × c) have their first largest entry at the label y_i. */
export function count_correct<T>(m: i32, c: i32, z: usize, ldz: i32, y: usize): i32 {
  const S = <usize>sizeof<T>();
  let correct = 0;
  for (let i = 0; i < m; i++) {
    const zr = z + <usize>i * <usize>ldz * S;
    let best = load<T>(zr);
    let arg = 0;
    for (let k = 1; k < c; k++) {
      const v = load<T>(zr + <usize>k * S);
      if (v > best) {
        best = v;
        arg = k;
      }
    }
    if (arg == load<i32>(y + (<usize>i << 2))) correct++;
  }
  return correct;
}
