import type { Frame } from '../source/frame';
import type { FrameConsumer, Pipeline } from '../pipeline';
import { PacketDedup, type DedupOptions } from './packet-dedup';
import type { LiveSource } from '../live/live-source';

export { PacketDedup, DEFAULT_DEDUP_OPTIONS, type DedupOptions } from './packet-dedup';
export { ipHeaderOffset } from './ip-offset';

/** The packet outcome a suppressed copy is counted under. */
export const DUPLICATE_OUTCOME = 'duplicate_suppressed';

/**
 * Puts a PacketDedup in front of a pipeline: returns the `onFrame` callback a source (file or live)
 * calls. A duplicate never reaches the decoder; it is still counted once as a packet (packets, bytes)
 * and once under the packet outcome 'duplicate_suppressed', so the outcomes still add up to the
 * packets. Dedup's own counters (dedup_table_overwrites) go to `pipeline.counters`.
 *
 * Usage in read: `const onFrame = dedupFrameHandler(pipeline)` when `--dedup` is given, then
 * `readCaptureInput(input, { onFrame, onWeird }, ...)`. `frame.buf` is borrowed as usual.
 */
export function dedupFrameHandler(pipeline: FrameConsumer, opts: Partial<DedupOptions> = {}): (frame: Frame) => void {
  const dedup = new PacketDedup(opts, pipeline.counters);
  return (frame: Frame): void => {
    if (dedup.isDuplicate(frame)) {
      countSuppressed(pipeline, frame);
      return;
    }
    pipeline.onFrame(frame);
  };
}

/** Counts a frame that never entered the pipeline under 'duplicate_suppressed'. */
function countSuppressed(pipeline: FrameConsumer, frame: Frame): void {
  pipeline.countWithheld(frame, DUPLICATE_OUTCOME);
}

/**
 * Wraps a live source so that its frames pass through a PacketDedup before they reach the
 * callback runLive gives it (which is `pipeline.onFrame`). Suppressed copies are counted on
 * `pipeline` exactly like `dedupFrameHandler` does.
 */
export function dedupSource(inner: LiveSource, pipeline: Pipeline, opts: Partial<DedupOptions> = {}): LiveSource {
  const dedup = new PacketDedup(opts, pipeline.counters);
  const wrapped: LiveSource = {
    name: inner.name,
    start: (onFrame) =>
      inner.start((frame) => {
        if (dedup.isDuplicate(frame)) countSuppressed(pipeline, frame);
        else onFrame(frame);
      }),
    stop: () => inner.stop(),
    ready: () => inner.ready(),
    pollStats: (counters) => {
      inner.pollStats?.(counters);
      counters.set('dedup_table_slots', dedup.capacity);
    },
  };
  return wrapped;
}
