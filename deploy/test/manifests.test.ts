import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type {
  IConfigMap,
  IContainer,
  IEnvVar,
  IPodSpec,
  ISecret,
  IService,
} from 'kubernetes-models/v1';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { edgeEnvSchema, parseEdgeEnv } from '../../services/edge/src/env.js';
import { bufferEnvSchema, loadBufferEnv } from '../../services/buffer/src/env.js';
import { SERVICE_NODE_FLAGS } from '../../packages/testing/src/service-process.js';
import { BUFFER_METRICS, EDGE_METRICS } from './metric-names.js';
import { baseMetricName, promqlMetricNames } from './promql-metric-names.js';
import { renderOverlay, type RenderedObject } from './render-overlay.js';
import { validateObject } from './validate-object.js';

const OVERLAYS = ['dev', 'production'] as const;
type Overlay = (typeof OVERLAYS)[number];

const EDGE = 'agentwire-edge';
const BUFFER = 'agentwire-buffer';
const SECRET = 'agentwire-secrets';

/** Settings that have a default, so the base ConfigMap must spell each one out. */
const NON_SECRET_SETTINGS = [
  'PORT',
  'LOG_LEVEL',
  'KEY_PREFIX',
  'SHARDS',
  'LEASE_TTL_MS',
  'NODE_TTL_MS',
  'HELLO_TIMEOUT_MS',
  'ACK_TIMEOUT_MS',
  'HEARTBEAT_MS',
  'MAX_PAYLOAD',
  'MAX_EVENT_BYTES',
  'MAX_CONNECTIONS_PER_USER',
  'MAX_CONNECTIONS',
  'SEND_BUFFER_SOFT_BYTES',
  'SEND_BUFFER_HARD_BYTES',
  'RETENTION_MS',
  'RETENTION_MAX_EVENTS',
  'CRITICAL_EVENTS',
  'DRAIN_WINDOW_MS',
  'DRAIN_GRACE_MS',
  'STOP_GRACE_MS',
  'ALLOW_UWS_FALLBACK',
];

function ofKind<T>(objects: RenderedObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

function named<T>(objects: RenderedObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered overlay`);
  return found as unknown as T;
}

interface Workload {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  pod: IPodSpec;
}

function workloads(objects: RenderedObject[]): Workload[] {
  const controllers = [
    ...ofKind<IDeployment>(objects, 'Deployment'),
    ...ofKind<IStatefulSet>(objects, 'StatefulSet'),
  ];
  return controllers.map((c) => {
    const template = c.spec?.template;
    if (!template?.spec) throw new Error(`${c.metadata?.name} has no pod template`);
    return {
      name: c.metadata?.name ?? '',
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      pod: template.spec,
    };
  });
}

function podOf(objects: RenderedObject[], deployment: string): IPodSpec {
  const spec = named<IDeployment>(objects, 'Deployment', deployment).spec?.template.spec;
  if (!spec) throw new Error(`${deployment} has no pod spec`);
  return spec;
}

function onlyContainer(pod: IPodSpec): IContainer {
  expect(pod.containers).toHaveLength(1);
  return pod.containers[0] as IContainer;
}

/** The container's environment as the kubelet builds it: envFrom first, env entries override. */
function environment(objects: RenderedObject[], container: IContainer): Map<string, IEnvVar> {
  const env = new Map<string, IEnvVar>();
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef?.name;
    if (ref === undefined) throw new Error(`${container.name}: only configMapRef envFrom is used`);
    const data = named<IConfigMap>(objects, 'ConfigMap', ref).data ?? {};
    for (const [name, value] of Object.entries(data)) env.set(name, { name, value });
  }
  for (const entry of container.env ?? []) env.set(entry.name, entry);
  return env;
}

function literal(env: Map<string, IEnvVar>, name: string): string {
  const value = env.get(name)?.value;
  if (value === undefined) throw new Error(`${name} has no literal value`);
  return value;
}

function containerPort(container: IContainer, portName: string): number {
  const port = container.ports?.find((p) => p.name === portName);
  if (!port) throw new Error(`${container.name} has no port named ${portName}`);
  return port.containerPort;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** Exactly one way to reach Redis, and it is not empty. */
function expectOneRedisSetting(env: Map<string, IEnvVar>): void {
  const set = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter(
    (name) => env.get(name)?.value,
  );
  expect(set).toHaveLength(1);
}

function expectFromPodName(env: Map<string, IEnvVar>, name: string): void {
  expect(env.get(name)?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
}

// Rendered on first use inside a test, so a missing kubectl fails every test
// that needs it with the install hint, instead of skipping them.
const rendered = new Map<string, RenderedObject[]>();

function renderedOnce(path: string): RenderedObject[] {
  let objects = rendered.get(path);
  if (!objects) {
    objects = renderOverlay(fileURLToPath(new URL(`../k8s/${path}`, import.meta.url)));
    rendered.set(path, objects);
  }
  return objects;
}

function objectsOf(overlay: Overlay): RenderedObject[] {
  return renderedOnce(`overlays/${overlay}`);
}

describe.each(OVERLAYS)('kustomize overlay %s', (overlay) => {
  it('renders objects that each fit their Kubernetes schema', () => {
    const objects = objectsOf(overlay);
    for (const object of objects) validateObject(object);
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        `Deployment/${EDGE}`,
        `Deployment/${BUFFER}`,
        `Service/${EDGE}`,
        `HorizontalPodAutoscaler/${EDGE}`,
        `PodDisruptionBudget/${EDGE}`,
        `PodDisruptionBudget/${BUFFER}`,
      ]),
    );
    for (const object of objects) {
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBeTruthy();
    }
  });

  it('gives every container readiness and liveness probes, requests and limits', () => {
    const all = workloads(objectsOf(overlay)).flatMap((w) => [
      ...w.pod.containers,
      ...(w.pod.initContainers ?? []),
    ]);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const container of all) {
      expect(container.readinessProbe, `${container.name} readiness`).toBeDefined();
      expect(container.livenessProbe, `${container.name} liveness`).toBeDefined();
      expect(container.resources?.requests?.cpu, `${container.name} cpu request`).toBeDefined();
      expect(
        container.resources?.requests?.memory,
        `${container.name} memory request`,
      ).toBeDefined();
      expect(container.resources?.limits?.cpu, `${container.name} cpu limit`).toBeDefined();
      expect(container.resources?.limits?.memory, `${container.name} memory limit`).toBeDefined();
    }
  });

  it('runs every pod as non-root on a read-only root filesystem', () => {
    for (const workload of workloads(objectsOf(overlay))) {
      expect(workload.pod.securityContext?.runAsNonRoot, workload.name).toBe(true);
      expect(workload.pod.automountServiceAccountToken, workload.name).toBe(false);
      for (const container of workload.pod.containers) {
        expect(container.securityContext?.readOnlyRootFilesystem, container.name).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation, container.name).toBe(false);
        expect(container.securityContext?.capabilities?.drop, container.name).toContain('ALL');
      }
    }
  });

  it.each([
    { deployment: EDGE, deadline: 'DRAIN_GRACE_MS' },
    { deployment: BUFFER, deadline: 'STOP_GRACE_MS' },
  ])(
    'lets $deployment exit by its $deadline before the kubelet kills it',
    ({ deployment, deadline }) => {
      const objects = objectsOf(overlay);
      const pod = podOf(objects, deployment);
      const graceMs = Number(literal(environment(objects, onlyContainer(pod)), deadline));
      expect(graceMs).toBeGreaterThan(0);
      expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(graceMs);
    },
  );

  it('sets every variable the edge requires', () => {
    const objects = objectsOf(overlay);
    const edge = onlyContainer(podOf(objects, EDGE));
    const env = environment(objects, edge);
    expectOneRedisSetting(env);
    expectFromPodName(env, 'NODE_ID');
    for (const secret of ['JWT_SECRET', 'INGEST_TOKEN']) {
      // From the Secret, never written into the Deployment itself.
      expect(env.get(secret)?.value, secret).toBeUndefined();
      expect(env.get(secret)?.valueFrom?.secretKeyRef?.key, secret).toBe(secret);
    }
    expect(Number(literal(env, 'PORT'))).toBe(containerPort(edge, 'http'));
    expect(literal(env, 'ALLOW_UWS_FALLBACK')).toBe('false');
    expect(edge.args).toEqual([...SERVICE_NODE_FLAGS.edge, 'services/edge/dist/main.js']);
  });

  it('sets the buffer Redis and the port its probes use', () => {
    const objects = objectsOf(overlay);
    const deployment = named<IDeployment>(objects, 'Deployment', BUFFER);
    const buffer = onlyContainer(podOf(objects, BUFFER));
    const env = environment(objects, buffer);
    expectOneRedisSetting(env);
    // PORT, as protocol.md section 8 says; not the deprecated METRICS_PORT.
    expect(Number(literal(env, 'PORT'))).toBe(containerPort(buffer, 'metrics'));
    expect(env.has('METRICS_PORT')).toBe(false);
    expect(buffer.readinessProbe?.httpGet?.port).toBe('metrics');
    expect(buffer.livenessProbe?.httpGet?.port).toBe('metrics');
    const replicas = deployment.spec?.replicas ?? 1;
    expect(replicas).toBeGreaterThanOrEqual(2);
    expect(replicas).toBeLessThanOrEqual(Number(literal(env, 'SHARDS')));
    expect(buffer.args).toEqual(['services/buffer/dist/main.js']);
  });

  it('probes the edge on /readyz and /healthz of its http port', () => {
    const edge = onlyContainer(podOf(objectsOf(overlay), EDGE));
    expect(edge.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(edge.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
  });

  it('runs one pinned image in both deployments', () => {
    const objects = objectsOf(overlay);
    const edgeImage = onlyContainer(podOf(objects, EDGE)).image;
    const bufferImage = onlyContainer(podOf(objects, BUFFER)).image;
    expect(edgeImage).toBe(bufferImage);
    expect(edgeImage).toMatch(/:[\w][\w.-]*$/);
    expect(edgeImage).not.toMatch(/:latest$/);
  });

  it('renders every ConfigMap a container reads, holding every non-secret setting', () => {
    const objects = objectsOf(overlay);
    for (const name of [EDGE, BUFFER]) {
      const env = environment(objects, onlyContainer(podOf(objects, name)));
      for (const setting of NON_SECRET_SETTINGS)
        expect(env.get(setting)?.value, setting).toBeTruthy();
    }
  });

  it('routes the edge Service to the edge pods without session affinity', () => {
    const objects = objectsOf(overlay);
    const service = named<IService>(objects, 'Service', EDGE);
    const pod = named<IDeployment>(objects, 'Deployment', EDGE).spec?.template;
    expect(selects(service.spec?.selector, pod?.metadata?.labels ?? {})).toBe(true);
    expect(service.spec?.sessionAffinity ?? 'None').toBe('None');
    const port = service.spec?.ports?.find((p) => p.name === 'http');
    expect(port?.port).toBe(8080);
    expect(port?.targetPort).toBe('http');
  });

  it('autoscales the edge on CPU and leaves its replica count to the HPA', () => {
    const objects = objectsOf(overlay);
    const hpa = named<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler', EDGE);
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: EDGE });
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 0);
    expect(hpa.spec?.metrics?.map((m) => m.resource?.name)).toContain('cpu');
    expect(named<IDeployment>(objects, 'Deployment', EDGE).spec?.replicas).toBeUndefined();
  });

  it('covers each agentwire workload with exactly one PodDisruptionBudget', () => {
    const objects = objectsOf(overlay);
    const budgets = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    for (const name of [EDGE, BUFFER]) {
      const labels = named<IDeployment>(objects, 'Deployment', name).spec?.template.metadata
        ?.labels;
      const covering = budgets.filter((b) => selects(b.spec?.selector?.matchLabels, labels ?? {}));
      expect(covering, name).toHaveLength(1);
    }
  });

  it('asks Prometheus to scrape /metrics on a port each pod listens on', () => {
    for (const workload of workloads(objectsOf(overlay))) {
      if (!workload.name.startsWith('agentwire-') || workload.name === 'agentwire-redis') continue;
      expect(workload.annotations['prometheus.io/scrape']).toBe('true');
      expect(workload.annotations['prometheus.io/path']).toBe('/metrics');
      const ports = workload.pod.containers.flatMap((c) => c.ports ?? []);
      expect(ports.map((p) => String(p.containerPort))).toContain(
        workload.annotations['prometheus.io/port'],
      );
    }
  });
});

describe('dev overlay', () => {
  it('runs Redis with appendfsync always behind the Service REDIS_URL names', () => {
    const objects = objectsOf('dev');
    const env = environment(objects, onlyContainer(podOf(objects, EDGE)));
    const url = new URL(literal(env, 'REDIS_URL'));
    const service = named<IService>(objects, 'Service', url.hostname);
    expect(service.spec?.ports?.map((p) => p.port)).toContain(Number(url.port));
    const redis = ofKind<IStatefulSet>(objects, 'StatefulSet').find((s) =>
      selects(service.spec?.selector, s.spec?.template.metadata?.labels ?? {}),
    );
    expect(redis?.spec?.replicas).toBe(1);
    const command = redis?.spec?.template.spec?.containers[0]?.command ?? [];
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(command[command.indexOf('--appendfsync') + 1]).toBe('always');
    expect(redis?.spec?.volumeClaimTemplates?.length).toBe(1);
  });

  it('generates the Secret the pods read, with both keys', () => {
    const objects = objectsOf('dev');
    const ref = environment(objects, onlyContainer(podOf(objects, EDGE))).get('JWT_SECRET');
    const secretName = ref?.valueFrom?.secretKeyRef?.name ?? '';
    expect(secretName.startsWith(`${SECRET}-`)).toBe(true);
    const secret = named<ISecret>(objects, 'Secret', secretName);
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['INGEST_TOKEN', 'JWT_SECRET']);
  });
});

describe('production overlay', () => {
  it('ships no Secret: the pods read one created outside kustomize', () => {
    const objects = objectsOf('production');
    expect(ofKind<ISecret>(objects, 'Secret')).toEqual([]);
    const env = environment(objects, onlyContainer(podOf(objects, EDGE)));
    expect(env.get('JWT_SECRET')?.valueFrom?.secretKeyRef?.name).toBe(SECRET);
    expect(env.get('INGEST_TOKEN')?.valueFrom?.secretKeyRef?.name).toBe(SECRET);
  });

  it('seeds the Redis Cluster client with host:port pairs', () => {
    const objects = objectsOf('production');
    const env = environment(objects, onlyContainer(podOf(objects, EDGE)));
    const nodes = literal(env, 'REDIS_CLUSTER_NODES').split(',');
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    for (const node of nodes) expect(node).toMatch(/^[a-z0-9.-]+:\d+$/);
  });

  it('runs more replicas than dev', () => {
    const [dev, prod] = [objectsOf('dev'), objectsOf('production')];
    const bufferReplicas = (o: RenderedObject[]) =>
      named<IDeployment>(o, 'Deployment', BUFFER).spec?.replicas ?? 1;
    const edgeMin = (o: RenderedObject[]) =>
      named<IHorizontalPodAutoscaler>(o, 'HorizontalPodAutoscaler', EDGE).spec?.minReplicas ?? 1;
    expect(bufferReplicas(prod)).toBeGreaterThan(bufferReplicas(dev));
    expect(edgeMin(prod)).toBeGreaterThan(edgeMin(dev));
  });

  it('exposes /v1/ws and /v1/events through ingress-nginx with long timeouts', () => {
    const objects = objectsOf('production');
    const [ingress] = ofKind<IIngress>(objects, 'Ingress');
    const env = environment(objects, onlyContainer(podOf(objects, EDGE)));
    const annotations = ingress?.metadata?.annotations ?? {};
    const paths = ingress?.spec?.rules?.flatMap((r) => r.http?.paths ?? []) ?? [];
    expect(paths.map((p) => p.path).sort()).toEqual(['/v1/events', '/v1/ws']);
    for (const path of paths) {
      expect(path.backend.service).toEqual({ name: EDGE, port: { name: 'http' } });
    }
    // An idle but healthy socket hears a heartbeat every HEARTBEAT_MS; the proxy must outwait many.
    const heartbeatSeconds = Number(literal(env, 'HEARTBEAT_MS')) / 1000;
    for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) {
      const seconds = Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`]);
      expect(seconds, timeout).toBeGreaterThanOrEqual(10 * heartbeatSeconds);
    }
    // No stickiness: clients resume on any edge.
    expect(annotations['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
    expect(annotations['nginx.ingress.kubernetes.io/upstream-hash-by']).toBeUndefined();
  });
});

/** A service's own env schema: its variable names and the loader that validates them. */
interface ServiceEnv {
  deployment: string;
  variables: string[];
  load: (env: Record<string, string | undefined>) => Readonly<Record<string, unknown>>;
}

const SERVICE_ENVS: ServiceEnv[] = [
  { deployment: BUFFER, variables: Object.keys(bufferEnvSchema), load: loadBufferEnv },
  { deployment: EDGE, variables: Object.keys(edgeEnvSchema), load: parseEdgeEnv },
];

/** Set per pod, per secret or per overlay, so the base ConfigMap does not hold them. */
const NOT_IN_BASE_CONFIG = new Set([
  // Each Deployment sets its own, next to its container port.
  'PORT',
  // The buffer's deprecated alias of PORT.
  'METRICS_PORT',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_PASSWORD',
  'NODE_ID',
  'BUFFER_ID',
  'JWT_SECRET',
  'INGEST_TOKEN',
  'ALLOWED_ORIGINS',
  'DEMO_DIR',
  'UNACKED_WEBHOOK_URL',
]);

/** The environment a pod would see, with stand-ins for pod names and secrets. */
function podEnvironment(objects: RenderedObject[], deployment: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, entry] of environment(objects, onlyContainer(podOf(objects, deployment)))) {
    if (entry.value !== undefined) env[name] = entry.value;
    else if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.name')
      env[name] = `${deployment}-5d8f9c7b6-x2k4q`;
    else if (entry.valueFrom?.secretKeyRef) env[name] = 'stand-in-secret-of-at-least-32-chars';
    else throw new Error(`${deployment}: no stand-in for ${name}`);
  }
  return env;
}

describe.each(SERVICE_ENVS)('$deployment env schema', ({ deployment, variables, load }) => {
  it.each(OVERLAYS)('accepts the environment the %s overlay gives it', (overlay) => {
    expect(() => load(podEnvironment(objectsOf(overlay), deployment))).not.toThrow();
  });

  it('finds each of its settings in the base ConfigMap, at its default', () => {
    const [configMap] = ofKind<IConfigMap>(renderedOnce('base'), 'ConfigMap');
    const data = configMap?.data ?? {};
    // Secrets come from a Secret, not the ConfigMap: stand-ins let required ones parse.
    const secrets = {
      JWT_SECRET: 'stand-in-secret-of-at-least-32-chars',
      INGEST_TOKEN: 'stand-in-secret-of-at-least-32-chars',
    };
    const fromConfigMap = load({ ...secrets, ...data });
    const defaults = load(secrets);
    const settings = variables.filter((name) => !NOT_IN_BASE_CONFIG.has(name));
    expect(settings.length).toBeGreaterThan(5);
    for (const name of settings) {
      expect(data[name], `${name} in config.env`).toBeDefined();
      expect(fromConfigMap[name], `${name} default`).toEqual(defaults[name]);
    }
  });
});

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string; datasource?: { uid?: string } }[];
}

describe('Grafana dashboard', () => {
  const file = fileURLToPath(new URL('../grafana/agentwire-dashboard.json', import.meta.url));
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: DashboardPanel[] };
  const queries = dashboard.panels.flatMap((p) => p.targets ?? []);

  function processMetricNames(): string[] {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry.getMetricsAsArray().map((m) => m.name);
  }

  it('queries only metrics the services export', () => {
    const known = new Set<string>([...EDGE_METRICS, ...BUFFER_METRICS, ...processMetricNames()]);
    expect(queries.length).toBeGreaterThan(10);
    for (const { expr } of queries) {
      const names = promqlMetricNames(expr).map((n) => baseMetricName(n, known));
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${name} in ${expr}`).toBe(true);
    }
  });

  it('charts connections, delivery, ingest, acks and the buffer shards', () => {
    const queried = new Set(queries.flatMap((q) => promqlMetricNames(q.expr)));
    const wanted = [
      'aw_edge_connections',
      'aw_edge_connects_total',
      'aw_edge_disconnects_total',
      'aw_edge_delivery_latency_seconds_bucket',
      'aw_edge_ingest_events_total',
      'aw_edge_ingest_requests_total',
      'aw_edge_noncritical_dropped_total',
      'aw_edge_acks_confirmed_total',
      'aw_edge_acks_timed_out_total',
      'aw_edge_ack_latency_seconds_bucket',
      'aw_buffer_shard_pending',
      'aw_buffer_shard_oldest_pending_age_seconds',
      'aw_buffer_owned_shards',
      'aw_buffer_lease_takeovers_total',
    ];
    for (const name of wanted) expect(queried.has(name), name).toBe(true);
    const exprs = queries.map((q) => q.expr);
    for (const histogram of ['aw_edge_delivery_latency_seconds', 'aw_edge_ack_latency_seconds']) {
      for (const quantile of ['0.5', '0.99']) {
        const pattern = `histogram_quantile(${quantile}, sum by (le) (rate(${histogram}_bucket[`;
        expect(
          exprs.some((e) => e.startsWith(pattern)),
          `${histogram} p${quantile}`,
        ).toBe(true);
      }
    }
  });

  it('gives panels unique ids and points every query at the datasource variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid).toBe('${datasource}');
    }
  });
});

describe('promqlMetricNames', () => {
  it('keeps metric names and drops functions, labels, ranges and grouping', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, shard) (rate(x_bucket{job="a b",c!~"d"}[$__rate_interval]))) / on (pod) group_left y offset 5m',
      ).sort(),
    ).toEqual(['x_bucket', 'y']);
  });
});
