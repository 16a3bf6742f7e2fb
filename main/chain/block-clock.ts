/**
 * Wall-clock time of a followed block, for the ledger and every chart drawn from it.
 *
 * The chain's own timestamp (`timestamp.now`) cannot be used as it is: the embedded chain and
 * `datdot chain` advance it by one slot (12 s) per block whatever the block interval, so with
 * 6 s blocks the ledger ran an hour ahead after 600 blocks ("Earnings, last 30 days: 0" while
 * the earnings were in the future). Choice: a block's time is the EARLIER of its chain
 * timestamp and the wall-clock time this node first saw it (the follower reads it), and never
 * earlier than the block before it.
 * - A real chain (Asset Hub) stamps a block before anyone sees it: its timestamp wins, also when
 *   catching up on old blocks after a restart.
 * - A local chain's timestamp runs ahead: the moment it was seen wins, which is within a block
 *   interval of when it was built while the node follows live (the embedded chain builds no
 *   block while the node is closed). Blocks a node catches up on after being away from a
 *   `datdot chain` it does not run get the time they were caught up: the best it can know.
 * The time is written once with the block (ledger_blocks) and never changes.
 */

export interface BlockTimes {
  /** The block's `timestamp.now`. */
  chainMs: number
  /** Wall-clock time when this node read the block. */
  seenMs: number
  /** Wall-clock time given to the previous block, or null for the first one. */
  prevMs: number | null
}

/** The wall-clock time of a block (see above): min(chain, seen), not before the previous block. */
export function blockWallClock (t: BlockTimes): number {
  const chain = Number.isFinite(t.chainMs) && t.chainMs > 0 ? t.chainMs : t.seenMs
  const at = Math.min(chain, t.seenMs)
  return t.prevMs !== null && at < t.prevMs ? t.prevMs : at
}
