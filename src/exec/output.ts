// The output an attempt keeps: only the last `limit` bytes of whatever the target writes,
// in a ring that never grows past `limit`, so a job printing gigabytes costs O(limit) memory.

const INITIAL_CAPACITY = 4096;

export class TailBuffer {
  private buf: Buffer;
  /** Index of the oldest kept byte; stays 0 until the ring first wraps. */
  private start = 0;
  private size = 0;
  private total = 0;

  constructor(readonly limit: number) {
    this.limit = Math.max(0, Math.floor(limit));
    this.buf = Buffer.alloc(Math.min(this.limit, INITIAL_CAPACITY));
  }

  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.size;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.limit === 0 || chunk.length === 0) return;
    if (chunk.length >= this.limit) {
      this.grow(this.limit);
      this.buf.set(chunk.subarray(chunk.length - this.limit));
      this.start = 0;
      this.size = this.limit;
      return;
    }
    if (this.size + chunk.length > this.buf.length) this.grow(this.size + chunk.length);
    this.write(chunk);
  }

  /** The kept bytes as UTF-8, after a marker line when earlier bytes were dropped. */
  text(): string {
    let bytes = this.bytes();
    if (!this.truncated) return bytes.toString('utf8');
    const cut = leadingContinuationBytes(bytes);
    bytes = bytes.subarray(cut);
    const dropped = this.total - bytes.length;
    return `[tock: ${dropped} earlier bytes not kept]\n${bytes.toString('utf8')}`;
  }

  private bytes(): Buffer {
    const end = this.start + this.size;
    if (end <= this.buf.length) return this.buf.subarray(this.start, end);
    return Buffer.concat([this.buf.subarray(this.start), this.buf.subarray(0, end - this.buf.length)]);
  }

  /** Enlarges a not-yet-wrapped buffer (start is 0 until it is full). */
  private grow(needed: number): void {
    if (this.buf.length >= Math.min(needed, this.limit)) return;
    const capacity = Math.min(this.limit, Math.max(needed, this.buf.length * 2));
    const next = Buffer.alloc(capacity);
    this.bytes().copy(next);
    this.buf = next;
    this.start = 0;
  }

  /** Appends a chunk shorter than the capacity, overwriting the oldest bytes if full. */
  private write(chunk: Uint8Array): void {
    const capacity = this.buf.length;
    const at = (this.start + this.size) % capacity;
    const first = Math.min(chunk.length, capacity - at);
    this.buf.set(chunk.subarray(0, first), at);
    if (first < chunk.length) this.buf.set(chunk.subarray(first), 0);
    this.size += chunk.length;
    if (this.size > capacity) {
      this.start = (this.start + this.size - capacity) % capacity;
      this.size = capacity;
    }
  }
}

/** Bytes of a multi-byte character cut in half at the start of the tail (at most 3). */
function leadingContinuationBytes(bytes: Buffer): number {
  let n = 0;
  while (n < 3 && n < bytes.length && (bytes[n]! & 0xc0) === 0x80) n++;
  return n;
}
