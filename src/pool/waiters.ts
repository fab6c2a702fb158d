/**
 * Promises on the pool's state: each settles once its condition holds, checked
 * after every change the pool notifies, or rejects when the pool stops.
 */
interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Waiters {
  private readonly waiting: Waiter[] = [];
  private failure: Error | null = null;

  until(ready: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.push({ ready, resolve, reject }));
  }

  /** As until(), but settles after `ms` at the latest, and never rejects. */
  async within(ms: number, ready: () => boolean): Promise<void> {
    let over = false;
    const timer = setTimeout(() => {
      over = true;
      this.notify();
    }, ms);
    await this.until(() => over || ready()).catch(() => {});
    clearTimeout(timer);
  }

  notify(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const waiter = this.waiting[i]!;
      if (waiter.ready()) {
        this.waiting.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** Rejects every waiter, now and to come. */
  fail(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
