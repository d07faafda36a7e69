/** Trade events a sweep learns of by itself: positions whose opening order it saw fill. */
import type { Position } from '../../domain/position';
import { positionOpenedEvent } from '../trade-events';
import type { SweepContext } from './context';

/**
 * Announces `position_opened` for each record that was waiting for its opening fill (`submitting`,
 * `pending`) in the snapshot and is `open` after learning.
 */
export function announceOpened(
  s: SweepContext,
  before: readonly Position[],
  after: readonly Position[],
): void {
  const waiting = new Set(
    before.filter((p) => p.state === 'submitting' || p.state === 'pending').map((p) => p.position_id),
  );
  for (const p of after) {
    if (!waiting.has(p.position_id)) continue;
    const event = positionOpenedEvent(p, s.nowIso());
    if (event) s.emit(event);
  }
}
