/** The sweep: one pass of learn → reconcile → act → protective stops → day P&L → events (run-sweep.ts). */
export { runSweep } from './run-sweep';
export type { PollWindow, SweepDeps, SweepReport } from './types';
