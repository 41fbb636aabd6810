/**
 * Chrome / Perfetto trace-event export of a recorded run (`--trace trace.json`): one track
 * (thread) per worker, one complete slice per task covering its run on that worker, with the
 * phase breakdown and its key group in `args`; the scheduler's own track shows when each batch
 * of work was handed out. Loads in ui.perfetto.dev and chrome://tracing.
 */
import type { RunRecord } from './record.js';
import { phasesOf } from '../core/phases.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'i';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

export interface TraceDocument {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

const PID = 1;
const SCHEDULER_TID = 0;

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function toTrace(record: RunRecord): TraceDocument {
  const t0 = record.run.startedAt;
  const us = (ms: number): number => Math.round((ms - t0) * 1000 * 10) / 10;
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: SCHEDULER_TID, args: { name: `skein ${record.run.scheduler}` } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: SCHEDULER_TID, args: { name: 'scheduler' } },
  ];
  record.workers.forEach((w, i) => {
    events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: i + 1, args: { name: w.name } });
    // a worker that started for this run: its start-up on its own track, before its first task
    if (w.startup !== undefined && w.startup[1] > t0) events.push({ name: 'worker start-up', cat: 'worker', ph: 'X', ts: us(w.startup[0]), dur: us(w.startup[1]) - us(w.startup[0]), pid: PID, tid: i + 1, args: {} });
  });
  const { tasks, graph } = record;
  const dispatchTimes = new Set<number>();
  for (let t = 0; t < graph.keys.length; t++) {
    const started = tasks.started[t];
    const finished = tasks.finished[t];
    if (started === null || finished === null || started === undefined || finished === undefined) continue;
    const ready = tasks.ready[t] ?? null;
    const dispatched = tasks.dispatched[t] ?? null;
    const received = tasks.received[t] ?? null;
    if (dispatched !== null) dispatchTimes.add(dispatched);
    events.push({
      name: graph.keys[t]!,
      cat: graph.groups[t]!,
      ph: 'X',
      ts: us(started),
      dur: Math.max(0, us(finished) - us(started)),
      pid: PID,
      tid: tasks.worker[t]! + 1,
      args: {
        group: graph.groups[t],
        status: tasks.status[t],
        wait_ms: ready !== null && dispatched !== null ? round(dispatched - ready) : null,
        transfer_ms: dispatched !== null ? round(phasesOf(Number.NaN, dispatched, started, finished, Number.NaN, record.workers[tasks.worker[t]!]?.startup).transfer) : null,
        run_ms: round(finished - started),
        result_ms: received !== null ? round(received - finished) : null,
        result_bytes: tasks.resultBytes[t],
      },
    });
  }
  for (const d of [...dispatchTimes].sort((a, b) => a - b)) events.push({ name: 'dispatch', ph: 'i', s: 't', ts: us(d), pid: PID, tid: SCHEDULER_TID });
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { scheduler: record.run.scheduler, graphFile: record.run.graphFile, keys: record.run.keys } };
}
