/**
 * Starts and stops runner processes (runtime/runner/main.ts). No `vscode` import: this is plain
 * Node, so it is tested without an editor.
 *
 * A runner is started detached, as the leader of its own process group, so `stop()` can kill it
 * together with everything it started (worker processes, esbuild's service) in one signal, and
 * a runner that hangs or ignores signals still goes away.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { FromRunner, ToRunner } from '../runtime/runner/protocol.js';

export interface RunnerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stderr the runner printed (user code's console.error, Node warnings), last 64 KiB. */
  readonly stderr: string;
}

export interface RunnerOptions {
  readonly node: string;
  readonly runnerFile: string;
  readonly cwd: string;
  readonly request: ToRunner;
  readonly env?: NodeJS.ProcessEnv;
  /** Node options for the runner (the debugger adds --inspect). */
  readonly execArgv?: readonly string[];
  onMessage(message: FromRunner): void;
  /** Lines the user's code printed to stdout/stderr. */
  onOutput?(text: string): void;
}

export class RunnerClient {
  readonly pid: number;
  readonly exited: Promise<RunnerExit>;
  #child: ChildProcess;
  #stopped = false;

  private constructor(child: ChildProcess, options: RunnerOptions) {
    this.#child = child;
    this.pid = child.pid ?? -1;
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => options.onOutput?.(d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr = (stderr + text).slice(-65536);
      options.onOutput?.(text);
    });
    child.on('message', (m: FromRunner) => options.onMessage(m));
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, stderr: `${stderr}${error.message}\n` }));
      // 'close', not 'exit': the last of stderr (a fatal error) has been read by then
      child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    });
  }

  /** Starts a runner and sends it the run request. */
  static start(options: RunnerOptions): RunnerClient {
    const child = spawn(options.node, ['--enable-source-maps', ...(options.execArgv ?? []), options.runnerFile], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    const client = new RunnerClient(child, options);
    child.send(options.request);
    return client;
  }

  /** Sends a message to the runner (debug requests). */
  send(message: ToRunner): void {
    if (this.#child.connected) this.#child.send(message);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Kills the runner and its whole process group at once. */
  stop(): void {
    this.#stopped = true;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.pid <= 0) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.#child.kill('SIGKILL'); // not a group leader (spawn failed half-way): kill what we have
    }
  }
}
