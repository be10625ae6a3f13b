/**
 * A first-fit allocator over a region of WebAssembly linear memory.
 *
 * The kernels never allocate; the TypeScript layer asks this allocator for 64-byte aligned blocks
 * (a cache line, and more than the 16 bytes SIMD loads like). Block bookkeeping lives on the
 * JavaScript side, so a kernel that writes out of bounds cannot corrupt it. Free blocks are kept
 * sorted by address and merged with their neighbours, so memory that is freed can be reused by
 * requests of any size.
 *
 * When no free block is large enough, the memory grows (`grow` is given the number of bytes that
 * are missing at the end of the heap). Growing detaches every `ArrayBuffer` view of the memory:
 * callers must re-create their views after any call that can allocate.
 */
export class Allocator {
  static readonly ALIGN = 64;

  /** start → size of every live block */
  private readonly live = new Map<number, number>();
  /** free blocks, sorted by start, never adjacent (adjacent ones are merged) */
  private readonly freeStarts: number[] = [];
  private readonly freeSizes: number[] = [];
  private top: number;
  private liveBytes = 0;
  private peak = 0;

  /**
   * @param base first usable byte (rounded up to ALIGN)
   * @param capacity returns the current size of the memory in bytes
   * @param grow makes the memory at least `bytes` long, or throws
   */
  constructor(
    base: number,
    private readonly capacity: () => number,
    private readonly grow: (bytes: number) => void,
  ) {
    this.top = align(base);
  }

  /** Returns the address of a new block of at least `bytes` bytes (never 0-sized). */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isSafeInteger(bytes)) {
      throw new RangeError(`allocation of ${bytes} bytes is not a valid size`);
    }
    const size = align(Math.max(bytes, 1));
    if (size > MAX_MEMORY_BYTES) {
      throw new RangeError(
        `cannot allocate ${formatBytes(size)}: WebAssembly memory is limited to ${formatBytes(MAX_MEMORY_BYTES)}`,
      );
    }
    // first fit among the free blocks
    for (let i = 0; i < this.freeStarts.length; i++) {
      const fs = this.freeSizes[i];
      if (fs >= size) {
        const start = this.freeStarts[i];
        if (fs === size) {
          this.freeStarts.splice(i, 1);
          this.freeSizes.splice(i, 1);
        } else {
          this.freeStarts[i] = start + size;
          this.freeSizes[i] = fs - size;
        }
        return this.take(start, size);
      }
    }
    // extend the heap; a free block that ends at the top is extended rather than left behind
    let start = this.top;
    const last = this.freeStarts.length - 1;
    if (last >= 0 && this.freeStarts[last] + this.freeSizes[last] === this.top) {
      start = this.freeStarts[last];
    }
    const end = start + size;
    if (end > MAX_MEMORY_BYTES) {
      throw new RangeError(
        `cannot allocate ${formatBytes(size)}: WebAssembly memory would exceed ${formatBytes(MAX_MEMORY_BYTES)} ` +
          `(${formatBytes(this.liveBytes)} in use)`,
      );
    }
    if (end > this.capacity()) this.grow(end);
    if (start !== this.top) {
      this.freeStarts.pop();
      this.freeSizes.pop();
    }
    this.top = end;
    return this.take(start, size);
  }

  /** Returns a block to the allocator. Freeing 0 is a no-op; freeing an unknown address throws. */
  free(ptr: number): void {
    if (ptr === 0) return;
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`internal error: free of unknown block ${ptr}`);
    this.live.delete(ptr);
    this.liveBytes -= size;
    // binary search for the insertion point
    let lo = 0;
    let hi = this.freeStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.freeStarts[mid] < ptr) lo = mid + 1;
      else hi = mid;
    }
    let start = ptr;
    let end = ptr + size;
    // merge with the previous and the next free block
    if (lo > 0 && this.freeStarts[lo - 1] + this.freeSizes[lo - 1] === start) {
      lo--;
      start = this.freeStarts[lo];
      this.freeStarts.splice(lo, 1);
      this.freeSizes.splice(lo, 1);
    }
    if (lo < this.freeStarts.length && this.freeStarts[lo] === end) {
      end += this.freeSizes[lo];
      this.freeStarts.splice(lo, 1);
      this.freeSizes.splice(lo, 1);
    }
    this.freeStarts.splice(lo, 0, start);
    this.freeSizes.splice(lo, 0, end - start);
  }

  /** Size in bytes of a live block, or 0. */
  sizeOf(ptr: number): number {
    return this.live.get(ptr) ?? 0;
  }

  /** @internal Restarts the peak from the bytes live now (tests and benches measure one call's peak). */
  resetPeak(): void {
    this.peak = this.liveBytes;
  }

  stats(): { allocatedBytes: number; liveBlocks: number; peakBytes: number; heapTop: number } {
    return { allocatedBytes: this.liveBytes, liveBlocks: this.live.size, peakBytes: this.peak, heapTop: this.top };
  }

  private take(start: number, size: number): number {
    this.live.set(start, size);
    this.liveBytes += size;
    if (this.liveBytes > this.peak) this.peak = this.liveBytes;
    return start;
  }
}

/** The largest memory a 32-bit WebAssembly module can address: 65536 pages of 64 KiB. */
export const MAX_MEMORY_BYTES = 65536 * 65536;

function align(bytes: number): number {
  return Math.ceil(bytes / Allocator.ALIGN) * Allocator.ALIGN;
}

/** "12.0 MiB" style, for error messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
