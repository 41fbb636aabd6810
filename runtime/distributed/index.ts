/**
 * `skein/distributed`: the distributed scheduler. `new Client()` starts a LocalCluster (worker
 * processes kept running by a nanny, a scheduler on 127.0.0.1, its dashboard on 127.0.0.1:8787) and makes itself the default for `get` and
 * `compute`; `new Client('tcp://HOST:8786')` joins a running scheduler, `new Client('nats://HOST:4222')`
 * one that listens through NATS (workers on other machines).
 */
export { Client, Future, type ClientOptions, type FutureStatus, type SubmitOptions, WithOptions, isFuture } from './client.js';
export { Adaptive, type AdaptOptions, type AdaptTarget, type Cluster, LocalCluster, type LocalClusterOptions, defaultSizing, parseDuration, parseMemoryLimit } from './cluster.js';
export { wait, asCompleted, AsCompleted, type ReturnWhen } from './futures.js';
export { Scheduler, type SchedulerOptions } from './scheduler.js';
export { Worker, type WorkerOptions } from './worker.js';
export { type Comm, type Transport, inprocTransport, socketTransport } from './comm.js';
export { type LogEntry, type TaskStateName, TASK_STATES } from './schedulerState.js';
export { Dashboard, type DashboardOptions } from './dashboard.js';
export type { TaskStreamEntry, WorkerInfo } from './protocol.js';
export { WorkerPlugin, SchedulerPlugin, type PluginWorker, type PluginScheduler, type PluginStatus, type WorkerTaskState } from './plugins.js';
export { UploadFile } from './uploads.js';
export { ShippedModule } from './ship.js';
export { performanceReport } from './report.js';
export type { PerformanceData } from './dashboard.js';
export type { ProfileNode, ProfileTree } from '../diagnostics/flame.js';
export { JobCluster, type JobClusterOptions, type AdaptJobsOptions } from './jobCluster.js';
export { SlurmCluster, type SlurmClusterOptions } from './slurm.js';
export { KubeCluster, type KubeClusterOptions, type PodTemplate, kubeManifest } from './kube.js';
