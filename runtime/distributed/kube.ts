/**
 * Workers as Kubernetes pods, as dask-kubernetes does: `KubeCluster` creates one pod per worker
 * through the Kubernetes API (`@kubernetes/client-node`, an optional dependency the user installs),
 * from a pod template, labels them with the cluster's name, scales by creating and deleting them,
 * and deletes every one on close. `kubeManifest` (the CLI's `skein kube manifest`) writes the same
 * pod template into a Deployment for `kubectl apply`, for workers that outlive any one client.
 *
 * Pods reach the scheduler through NATS (`nats`): nothing on a pod's disk is shared with the
 * scheduler's, so no secret file can be; NATS's own credentials are the gate, and the code a graph
 * calls is shipped through JetStream's object store (ship.ts).
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { SKEIN_VERSION } from '../version.js';
import { JobCluster, type JobClusterOptions } from './jobCluster.js';
import { parseMemoryLimit } from './cluster.js';
import { shownAddress } from './natsComm.js';
import { overNats } from './comm.js';

type KubeConfig = import('@kubernetes/client-node').KubeConfig;
type CoreV1Api = import('@kubernetes/client-node').CoreV1Api;

/** A pod template as the Kubernetes API takes it (the parts KubeCluster reads; the rest passes through). */
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: { containers?: Array<{ name?: string; image?: string; [key: string]: unknown }>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeClusterOptions extends Omit<JobClusterOptions, 'nats' | 'processes' | 'host' | 'port' | 'secretFile'> {
  /** The NATS server workers and scheduler meet at, as pods reach it (`nats://nats.default.svc:4222`). */
  readonly nats: string;
  /** The container image; it needs Node.js 20 (default `node:20-bookworm-slim`). */
  readonly image?: string;
  /** How the image starts Skein's CLI (default `['npx', '--yes', 'skein@<this version>']`). */
  readonly command?: readonly string[];
  /** The cluster's name: pods are `<name>-<id>`, labelled `skein.dev/cluster=<name>` (default `skein-<random>`). */
  readonly name?: string;
  /** The namespace (default: the kubeconfig context's, else `default`). */
  readonly namespace?: string;
  /** A pod (`metadata`, `spec`) to start from; its first container runs the worker. */
  readonly podTemplate?: PodTemplate;
  /** Environment of the worker container. */
  readonly env?: Readonly<Record<string, string>>;
  /** The Kubernetes API to use (default: `KubeConfig.loadFromDefault()`: KUBECONFIG, ~/.kube/config, or in-cluster). */
  readonly kubeconfig?: KubeConfig;
}

export const CLUSTER_LABEL = 'skein.dev/cluster';

/** How a pod starts Skein's CLI unless told: this version from the npm registry. */
const NPX_SKEIN: readonly string[] = ['npx', '--yes', `skein@${SKEIN_VERSION}`];

/** What a worker pod runs and asks for: used by KubeCluster's pods and by the manifest's Deployment. */
export function workerPodSpec(o: { readonly image?: string; readonly command: readonly string[]; readonly cores: number; readonly memory: number; readonly env?: Readonly<Record<string, string>>; readonly template?: PodTemplate; readonly podNameEnv?: boolean }): PodTemplate & { spec: NonNullable<PodTemplate['spec']> } {
  const template: PodTemplate = structuredClone(o.template ?? {});
  const spec = (template.spec ??= {});
  const containers = (spec.containers ??= [{}]);
  if (containers.length === 0) containers.push({});
  const given = containers[0]!;
  const env = [
    ...((given.env as unknown[] | undefined) ?? []),
    ...(o.podNameEnv === true ? [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] : []),
    ...Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  containers[0] = {
    ...given,
    name: given.name ?? 'skein-worker',
    image: given.image ?? o.image ?? 'node:20-bookworm-slim',
    command: [...o.command],
    ...(env.length > 0 ? { env } : {}),
    resources: (given.resources as object | undefined) ?? {
      requests: { cpu: String(o.cores), memory: String(o.memory) },
      limits: { cpu: String(o.cores), memory: String(o.memory) },
    },
  };
  spec.restartPolicy ??= 'Never';
  return template as PodTemplate & { spec: NonNullable<PodTemplate['spec']> };
}

async function clientNode(): Promise<typeof import('@kubernetes/client-node')> {
  try {
    return await import('@kubernetes/client-node');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new Error('KubeCluster talks to Kubernetes through @kubernetes/client-node, which is not installed: npm install @kubernetes/client-node@1');
    throw error;
  }
}

export class KubeCluster extends JobCluster {
  readonly name: string;
  readonly #kube: KubeClusterOptions;
  #api: Promise<{ core: CoreV1Api; namespace: string }> | undefined;

  constructor(options: KubeClusterOptions) {
    // checked before the scheduler starts (a refused option leaves nothing running)
    if (!overNats(options.nats ?? '')) throw new TypeError(`KubeCluster needs nats: the NATS server pods and scheduler meet at (nats://HOST:4222); got ${JSON.stringify(options.nats)}`);
    const name = options.name ?? `skein-${randomBytes(3).toString('hex')}`;
    if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(name)) throw new TypeError(`name must be a Kubernetes name: lower-case letters, digits and '-', at most 42 characters; got ${JSON.stringify(name)}`);
    super(options);
    this.name = name;
    this.#kube = options;
  }

  /** Starts the scheduler; resolves once it listens (no pod is created until `scale` or `adapt`). */
  static start(options: KubeClusterOptions): Promise<KubeCluster> {
    return JobCluster.listeningOrClosed(new KubeCluster(options));
  }

  protected override launcher(): string[] {
    return [...(this.#kube.command ?? NPX_SKEIN)];
  }

  /** The pod a worker runs in, named `podName`. */
  podManifest(podName: string): PodTemplate {
    const pod = workerPodSpec({ image: this.#kube.image, command: this.workerCommand(podName)[0]!, cores: this.cores, memory: this.jobMemory, env: this.#kube.env, template: this.#kube.podTemplate });
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
    pod.metadata = { ...pod.metadata, name: podName, labels: { ...pod.metadata?.labels, [CLUSTER_LABEL]: this.name, 'app.kubernetes.io/name': 'skein-worker' } };
    return pod;
  }

  #client(): Promise<{ core: CoreV1Api; namespace: string }> {
    return (this.#api ??= (async () => {
      const k8s = await clientNode();
      let kc = this.#kube.kubeconfig;
      if (kc === undefined) {
        kc = new k8s.KubeConfig();
        kc.loadFromDefault();
      }
      const namespace = this.#kube.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      return { core: kc.makeApiClient(k8s.CoreV1Api), namespace };
    })());
  }

  protected async submit(): Promise<string> {
    const { core, namespace } = await this.#client();
    const name = `${this.name}-${randomBytes(3).toString('hex')}`;
    try {
      await core.createNamespacedPod({ namespace, body: this.podManifest(name) as never });
    } catch (error) {
      throw kubeError(error, `create pod ${name} in namespace ${namespace}`);
    }
    return name;
  }

  protected async cancel(ids: readonly string[]): Promise<void> {
    const { core, namespace } = await this.#client();
    await Promise.all(
      ids.map(async (name) => {
        try {
          await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 5 });
        } catch (error) {
          if ((error as { code?: number }).code !== 404) throw kubeError(error, `delete pod ${name}`);
        }
      }),
    );
  }

  protected async states(ids: readonly string[]): Promise<Map<string, string>> {
    const { core, namespace } = await this.#client();
    const list = await core.listNamespacedPod({ namespace, labelSelector: `${CLUSTER_LABEL}=${this.name}` });
    return new Map(list.items.filter((p) => ids.includes(p.metadata?.name ?? '')).map((p) => [p.metadata!.name!, p.status?.phase ?? 'Unknown']));
  }

  protected workerPrefix(id: string): string {
    return id;
  }
}

function kubeError(error: unknown, what: string): Error {
  const e = error as { code?: number; body?: string; message?: string };
  let said = e.message ?? String(error);
  try {
    said = (JSON.parse(e.body ?? '') as { message?: string }).message ?? said;
  } catch {
    // not a Status: the client's own message
  }
  return new Error(`Kubernetes refused to ${what}${e.code !== undefined ? ` (HTTP ${e.code})` : ''}: ${said}`);
}

export interface ManifestOptions {
  readonly nats: string;
  readonly workers?: number;
  readonly nthreads?: number;
  readonly memory?: string;
  readonly image?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly command?: readonly string[];
}

/** A Deployment of `workers` worker pods joining the scheduler at `nats`, as YAML for `kubectl apply -f -`. */
export function kubeManifest(o: ManifestOptions): string {
  const name = o.name ?? 'skein-worker';
  const nthreads = o.nthreads ?? 1;
  const memory = parseMemoryLimit(o.memory ?? '2GB', 1)!;
  const labels = { 'app.kubernetes.io/name': 'skein-worker', [CLUSTER_LABEL]: name };
  const command = [...(o.command ?? NPX_SKEIN), 'worker', '--nats', o.nats, '--nthreads', String(nthreads), '--memory-limit', String(memory), '--name', '$(POD_NAME)'];
  const pod = workerPodSpec({ image: o.image, command, cores: nthreads, memory, podNameEnv: true });
  // a Deployment's pods are started again when they end
  pod.spec.restartPolicy = 'Always';
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), labels },
    spec: { replicas: o.workers ?? 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod.spec } },
  };
  return `# skein workers joining the scheduler at ${shownAddress(o.nats)}: kubectl apply -f <this file>\n${stringify(deployment, { aliasDuplicateObjects: false })}`;
}
