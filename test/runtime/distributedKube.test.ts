// KubeCluster and `skein kube manifest`. No Kubernetes API server can run on this machine, so the
// launcher is tested against a fake one: a small HTTP server that speaks the pod endpoints the
// launcher calls (create, list by label, delete) and, standing in for a kubelet, starts each pod's
// container command as a local process (and stops it when the pod is deleted). The manifests are
// checked against Kubernetes' OpenAPI schema (the kubernetes-models package's validators).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Pod } from 'kubernetes-models/v1';
import { Client, KubeCluster, kubeManifest } from 'skein/distributed';
import { inc } from '../data/ops.js';
import { type NatsServer, startNatsServer } from './natsServer.js';
import { until } from '../until.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'skein.js');

interface FakePod {
  readonly body: { metadata: { name: string; labels?: Record<string, string> }; spec: { containers: Array<{ command: string[] }> }; status?: unknown };
  readonly process: ChildProcess;
}

/** The pod endpoints of a Kubernetes API, and a kubelet that runs each pod's command here. */
class FakeKubeApi {
  readonly requests: string[] = [];
  readonly pods = new Map<string, FakePod>();
  readonly #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'tester' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: 'skein-test' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const url = new URL(req.url!, 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const collection = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    const one = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (collection?.[1] === 'locked') {
      // as RBAC answers a user without the right
      return json(403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: `pods is forbidden: User "tester" cannot create resource "pods" in API group "" in the namespace "locked"` });
    }
    if (collection && req.method === 'POST') {
      const body = JSON.parse(text) as FakePod['body'];
      // what an API server does first: the pod against the schema
      new Pod(body as never).validate();
      const [command, ...args] = body.spec.containers[0]!.command;
      const child = spawn(command!, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      this.pods.set(body.metadata.name, { body, process: child });
      return json(201, { ...body, status: { phase: 'Pending' } });
    }
    if (collection && req.method === 'GET') {
      const [k, v] = (url.searchParams.get('labelSelector') ?? '=').split('=');
      const items = [...this.pods.values()].filter((p) => k === '' || p.body.metadata.labels?.[k!] === v).map((p) => ({ ...p.body, status: { phase: p.process.exitCode === null ? 'Running' : 'Succeeded' } }));
      return json(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items });
    }
    if (one && req.method === 'DELETE') {
      const pod = this.pods.get(one[2]!);
      if (pod === undefined) return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${one[2]}" not found` });
      this.pods.delete(one[2]!);
      // the kubelet's graceful stop: SIGTERM, then SIGKILL after the grace period
      if (pod.process.exitCode === null) {
        const gone = new Promise((resolve) => pod.process.once('exit', resolve));
        pod.process.kill('SIGTERM');
        const timer = setTimeout(() => pod.process.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      return json(200, pod.body);
    }
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `no route ${req.method} ${url.pathname}` });
  }

  async stop(): Promise<void> {
    for (const pod of this.pods.values()) pod.process.kill('SIGKILL');
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

describe('kube manifests', () => {
  it('skein kube manifest prints a Deployment that Kubernetes\' OpenAPI schema accepts, its pods asking for what the workers use', () => {
    const yaml = kubeManifest({ nats: 'nats://nats.default.svc:4222', workers: 3, nthreads: 2, memory: '1GiB', name: 'team-workers' });
    assert.match(yaml, /^# skein workers joining the scheduler at nats:\/\/nats.default.svc:4222: kubectl apply -f <this file>\n/);
    const manifest = parse(yaml) as { spec: { replicas: number; template: { spec: { containers: Array<{ command: string[]; resources: unknown; env: unknown[] }>; restartPolicy: string } } } };
    new Deployment(manifest as never).validate();
    assert.equal(manifest.spec.replicas, 3);
    const container = manifest.spec.template.spec.containers[0]!;
    assert.deepEqual(container.command.slice(3), ['worker', '--nats', 'nats://nats.default.svc:4222', '--nthreads', '2', '--memory-limit', '1073741824', '--name', '$(POD_NAME)']);
    assert.deepEqual(container.resources, { requests: { cpu: '2', memory: '1073741824' }, limits: { cpu: '2', memory: '1073741824' } });
    assert.deepEqual(container.env, [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    assert.equal(manifest.spec.template.spec.restartPolicy, 'Always');
    // the schema check can fail: a quantity that is not one is refused
    (container.resources as { limits: { cpu: unknown } }).limits.cpu = { cores: 2 };
    assert.throws(() => new Deployment(manifest as never).validate(), /resources\/limits\/cpu must be/);
  });

  it('a KubeCluster pod keeps what its template says and adds the worker, valid against the schema', async () => {
    const cluster = new KubeCluster({ nats: 'nats://127.0.0.1:1', cores: 2, memory: '2GB', name: 'tmpl', dashboardAddress: null, podTemplate: { metadata: { labels: { team: 'a' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'w', image: 'registry.local/node-skein:20' }] } } });
    const pod = cluster.podManifest('tmpl-abc123') as { metadata: { labels: Record<string, string> }; spec: { nodeSelector: unknown; containers: Array<{ name: string; image: string; command: string[] }>; restartPolicy: string } };
    new Pod(pod as never).validate();
    assert.deepEqual(pod.metadata.labels, { team: 'a', 'skein.dev/cluster': 'tmpl', 'app.kubernetes.io/name': 'skein-worker' });
    assert.deepEqual(pod.spec.nodeSelector, { disk: 'ssd' });
    assert.equal(pod.spec.containers[0]!.image, 'registry.local/node-skein:20');
    assert.deepEqual(pod.spec.containers[0]!.command, ['npx', '--yes', 'skein@0.1.0', 'worker', '--nats', 'nats://127.0.0.1:1', '--nthreads', '2', '--memory-limit', '2000000000', '--name', 'tmpl-abc123-0']);
    assert.equal(pod.spec.restartPolicy, 'Never');
    await cluster.close().catch(() => undefined);
    assert.throws(() => new KubeCluster({ nats: 'tcp://h:1', cores: 1, memory: '1GB' }), { message: 'KubeCluster needs nats: the NATS server pods and scheduler meet at (nats://HOST:4222); got "tcp://h:1"' });
  });
});

describe('KubeCluster against a fake Kubernetes API (pod endpoints only; its "kubelet" runs pods as local processes)', () => {
  let nats: NatsServer;
  const api = new FakeKubeApi();
  before(async () => {
    nats = await startNatsServer();
    await api.start();
  });
  after(async () => {
    await api.stop();
    await nats?.stop();
  });

  it('scale({ jobs: 2 }) creates two labelled pods whose workers join and compute, scaling down deletes one, close deletes the rest', async () => {
    const cluster = await KubeCluster.start({ nats: nats.url, cores: 1, memory: '1GB', name: 'kt', command: [process.execPath, bin], kubeconfig: api.kubeConfig(), dashboardAddress: null });
    try {
      await cluster.scale({ jobs: 2 });
      assert.equal(api.pods.size, 2);
      assert.deepEqual(api.requests, ['POST /api/v1/namespaces/skein-test/pods', 'POST /api/v1/namespaces/skein-test/pods']);
      for (const [name, pod] of api.pods) {
        assert.match(name, /^kt-[0-9a-f]{6}$/);
        assert.equal(pod.body.metadata.labels?.['skein.dev/cluster'], 'kt');
      }
      await cluster.waitForWorkers(2, 60_000);
      const names = [...cluster.scheduler.state.workers.values()].map((w) => w.name).sort();
      assert.deepEqual(names, [...api.pods.keys()].map((p) => `${p}-0`).sort());
      const client = new Client(cluster);
      try {
        const futures = client.map(inc, [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(await client.gather(futures), [2, 3, 4, 5, 6, 7]);
        await cluster.scale({ jobs: 1 });
        assert.equal(api.pods.size, 1);
        assert.equal(api.requests.filter((r) => r.startsWith('DELETE')).length, 1);
        await until('one worker left', () => (cluster.scheduler.state.workers.size === 1 ? true : undefined), 20_000);
        // what the retired worker held was copied first: nothing computed again, all still there
        assert.deepEqual(await client.gather(futures), [2, 3, 4, 5, 6, 7]);
      } finally {
        await client.close();
      }
    } finally {
      await cluster.close();
    }
    assert.equal(api.pods.size, 0, 'close deleted every pod');
    assert.equal(api.requests.filter((r) => r.startsWith('DELETE')).length, 2);
  });

  it('says what Kubernetes refused, naming the pod', async () => {
    const cluster = await KubeCluster.start({ nats: nats.url, cores: 1, memory: '1GB', name: 'kx', namespace: 'locked', kubeconfig: api.kubeConfig(), dashboardAddress: null });
    try {
      await assert.rejects(cluster.scale({ jobs: 1 }), /^Error: Kubernetes refused to create pod kx-[0-9a-f]{6} in namespace locked \(HTTP 403\): pods is forbidden: User "tester" cannot create resource "pods" in API group "" in the namespace "locked"$/);
    } finally {
      await cluster.close();
    }
  });
});
