import { randomBytes } from 'node:crypto';

/** Epochs drawn per refill: one randomBytes call serves this many script calls. */
const POOL_EPOCHS = 128;
const EPOCH_BYTES = 4;

/**
 * Random epochs for histories created afresh (8 hex digits each, as
 * randomBytes(4) gave them), drawn from a pool: the persist script needs one
 * per call, and a randomBytes call per batch was 3 % of the buffer's CPU at
 * 2,000 events/s (profiled). Every epoch handed out is new.
 */
export class FreshEpochs {
  private pool = '';
  private at = 0;

  next(): string {
    if (this.at >= this.pool.length) {
      this.pool = randomBytes(POOL_EPOCHS * EPOCH_BYTES).toString('hex');
      this.at = 0;
    }
    const epoch = this.pool.slice(this.at, this.at + 2 * EPOCH_BYTES);
    this.at += 2 * EPOCH_BYTES;
    return epoch;
  }
}
