// A binary min-heap: the daemon's timing structure, so finding the next due firing among
// 100,000 jobs costs O(log n), not a scan. Sifting moves a hole rather than swapping pairs:
// a burst pops and pushes every job once per daemon.

export class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly key: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    const k = this.key(item);
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(a[parent]) <= k) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      const k = this.key(last);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && this.key(a[r]) < this.key(a[l]) ? r : l;
        if (this.key(a[m]) >= k) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}
