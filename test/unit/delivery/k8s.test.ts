import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../../src/config/index.ts";
import { settingRows } from "../../../src/config/schema.ts";
import { configMapData, type K8sObject, k8sObject, k8sObjects } from "./support/artifacts.ts";
import { parseDockerfile } from "./support/dockerfile.ts";
import { KNOWN_ENV_VARS, loadYaml, readRepoFile, repoPathExists } from "./support/repo.ts";

interface Probe {
  httpGet: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number; protocol?: string }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown }[];
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpec;
  };
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: string[];
  ingress: {
    from: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: unknown }[];
    ports: { protocol: string; port: number | string }[];
  }[];
}

const deployment = k8sObject("Deployment");
const spec = deployment.spec as DeploymentSpec;
const pod = spec.template.spec;
const container = pod.containers[0] as Container;
const podLabels = spec.template.metadata.labels;
const selects = (selector: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => podLabels[key] === value);

const secret = k8sObject("Secret");
const SECRET_NAMES = new Set([
  ...settingRows.filter((row) => row.setting.secret).map((row) => row.setting.env),
  "TRUSTED_GATEWAY_SECRET",
  "DEBUG_TOKEN",
]);

/** Values of the right shape for every Secret key, as an operator would create them. */
function realisticSecrets(): Record<string, string> {
  const values: Record<string, string> = {
    KONG_ADMIN_TOKEN: randomBytes(24).toString("hex"),
    TRUSTED_GATEWAY_SECRET: randomBytes(24).toString("hex"),
    REDIS_PASSWORD: randomBytes(16).toString("hex"),
    CACHE_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  };
  for (const key of Object.keys(secret.stringData ?? {})) {
    if (!(key in values)) throw new Error(`no realistic value for Secret key ${key}; add one here`);
  }
  return values;
}

/** The configuration a pod starts with: the ConfigMap plus a real Secret, read by the service's own loader. */
const podConfig = () => loadConfig({ ...configMapData(), ...realisticSecrets() });

/** A Kubernetes quantity in base units: cores for CPU ("100m" → 0.1), bytes for memory ("64Mi"). */
function quantity(value: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(value ?? "");
  if (!match) throw new Error(`not a Kubernetes quantity: ${value}`);
  const factor: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
  };
  return Number(match[1]) * (match[2] ? (factor[match[2]] as number) : 1);
}

/** The container port a probe or Service names, as a number. */
function containerPort(port: string | number | undefined): number | undefined {
  return typeof port === "number" ? port : container.ports.find((p) => p.name === port)?.containerPort;
}

interface OpenApiPaths {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}
/** What the service serves (docs/openapi.json is checked against GET / by test/integration/openapi). */
const served = JSON.parse(readRepoFile("docs/openapi.json")) as OpenApiPaths;

describe("k8s/", () => {
  test("every manifest the kustomization lists exists, parses and belongs to the service", () => {
    const kustomization = loadYaml<{ resources: string[]; namespace?: string }>("k8s/kustomization.yaml");
    for (const resource of kustomization.resources)
      expect(repoPathExists(`k8s/${resource}`), resource).toBe(true);
    // The Secret is created out of band; the template must never be applied by `kubectl apply -k`.
    expect(kustomization.resources).not.toContain("secret.template.yaml");
    const kinds = k8sObjects().map(({ object }) => object.kind);
    for (const kind of [
      "Deployment",
      "Service",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "ConfigMap",
      "Secret",
      "ServiceAccount",
    ]) {
      expect(kinds).toContain(kind);
    }
    for (const { file, object } of k8sObjects()) {
      expect(object.apiVersion, file).toBeTruthy();
      expect(object.metadata.labels?.["app.kubernetes.io/name"], file).toBe(
        podLabels["app.kubernetes.io/name"],
      );
    }
  });

  test("Deployment: several replicas of the service's image, selected by its own labels, on the port it listens on", () => {
    // One replica could not survive a node drain or a rollout.
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    expect(selects(spec.selector.matchLabels)).toBe(true);
    expect(pod.containers).toHaveLength(1);
    expect(container.image).toMatch(/kong-auth-service:/);
    expect(container.ports).toHaveLength(1);
    expect(container.ports[0]?.protocol ?? "TCP").toBe("TCP");
    expect(container.ports[0]?.containerPort).toBe(podConfig().app.port);
  });

  test("Deployment: CPU and memory requested and capped, every limit at least its request", () => {
    const { requests, limits } = container.resources;
    for (const resource of ["cpu", "memory"]) {
      expect(quantity(requests[resource]), resource).toBeGreaterThan(0);
      expect(quantity(limits[resource]), resource).toBeGreaterThanOrEqual(quantity(requests[resource]));
    }
    // Bun alone needs tens of MiB; a cap below that would kill the pod at start.
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual(quantity("64Mi"));
  });

  test("Deployment: non-root as the image's uid, no privilege escalation, read-only root filesystem", () => {
    const runtime = parseDockerfile(readRepoFile("Dockerfile")).stages.at(-1);
    const imageUser = runtime?.instructions.filter((i) => i.keyword === "USER").at(-1)?.args ?? "";
    const [uid, gid] = imageUser.split(":").map(Number);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(uid as number);
    expect(pod.securityContext.runAsGroup).toBe(gid as number);
    expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
    const context = container.securityContext;
    expect(context.runAsNonRoot).toBe(true);
    expect(context.runAsUser).toBe(uid as number);
    expect(context.allowPrivilegeEscalation).toBe(false);
    expect(context.readOnlyRootFilesystem).toBe(true);
    expect(context.privileged ?? false).toBe(false);
    expect(context.capabilities?.drop).toEqual(["ALL"]);
    expect(context.capabilities?.add).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(k8sObject("ServiceAccount")).toMatchObject({ automountServiceAccountToken: false });
    expect(pod.serviceAccountName).toBe(k8sObject("ServiceAccount").metadata.name);
    // With a read-only root, /tmp is the only writable place, and it is bounded.
    const tmp = container.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
    expect(pod.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  test("Deployment: every probe hits a route the service serves, on the port it listens on", () => {
    const port = podConfig().app.port;
    for (const [name, probe] of Object.entries({
      startup: container.startupProbe,
      liveness: container.livenessProbe,
      readiness: container.readinessProbe,
    })) {
      expect(probe, name).toBeDefined();
      expect(containerPort(probe?.httpGet.port), name).toBe(port);
      expect(served.paths[probe?.httpGet.path ?? ""]?.get?.responses["200"], name).toBeDefined();
    }
    // Readiness can fail (503) and takes the pod out of the Service; liveness is another route that
    // does not depend on Kong or Redis, so an outage there never restarts healthy pods.
    expect(served.paths[container.readinessProbe.httpGet.path]?.get?.responses["503"]).toBeDefined();
    expect(served.paths[container.livenessProbe.httpGet.path]?.get?.responses["503"]).toBeUndefined();
    expect(container.livenessProbe.httpGet.path).not.toBe(container.readinessProbe.httpGet.path);
  });

  test("Deployment: the drain window covers endpoint propagation; termination grace covers the whole stop and the telemetry flush", () => {
    const config = podConfig();
    const shutdownSeconds = config.app.shutdownTimeoutMs / 1000;
    const drainSeconds = config.app.shutdownDrainMs / 1000;
    const flushSeconds = config.telemetry.mode === "console" ? 0 : config.telemetry.exportTimeoutMs / 1000;
    // Kube-proxy and Kong take a few seconds to stop sending to a terminating pod; it keeps answering till then.
    expect(drainSeconds).toBeGreaterThanOrEqual(5);
    expect(drainSeconds).toBeLessThan(shutdownSeconds);
    // A preStop sleep would add its wait before the drain, keeping the pod around for nothing.
    expect(container.lifecycle?.preStop).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(shutdownSeconds + flushSeconds);
  });

  test("Deployment: configuration from the ConfigMap, secrets from the Secret", () => {
    expect(container.envFrom).toEqual([
      { configMapRef: { name: k8sObject("ConfigMap").metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ]);
  });

  test("Service: selects the pods and targets the named container port", () => {
    const service = k8sObject("Service").spec as {
      type: string;
      selector: Record<string, string>;
      ports: { port: number; targetPort: string }[];
    };
    expect(service.type).toBe("ClusterIP");
    expect(selects(service.selector)).toBe(true);
    expect(service.ports).toHaveLength(1);
    expect(container.ports.map((port) => port.name)).toContain(service.ports[0]?.targetPort as string);
    expect(containerPort(service.ports[0]?.targetPort)).toBe(podConfig().app.port);
  });

  test("HorizontalPodAutoscaler: scales the Deployment on CPU utilisation, never below its replicas", () => {
    const hpa = k8sObject("HorizontalPodAutoscaler");
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    const hpaSpec = hpa.spec as {
      scaleTargetRef: { apiVersion: string; kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: {
        type: string;
        resource: { name: string; target: { type: string; averageUtilization: number } };
      }[];
    };
    expect(hpaSpec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    expect(hpaSpec.minReplicas).toBe(spec.replicas);
    expect(hpaSpec.maxReplicas).toBeGreaterThan(hpaSpec.minReplicas);
    expect(hpaSpec.metrics).toHaveLength(1);
    const [metric] = hpaSpec.metrics;
    expect(metric?.type).toBe("Resource");
    expect(metric?.resource.name).toBe("cpu");
    expect(metric?.resource.target.type).toBe("Utilization");
    // Scaling out after the pods are past their CPU limit would be too late.
    const target = metric?.resource.target.averageUtilization ?? 0;
    expect(target).toBeGreaterThan(0);
    expect(target / 100).toBeLessThan(
      quantity(container.resources.limits.cpu) / quantity(container.resources.requests.cpu),
    );
    // CPU utilisation is measured against the request, which therefore must be set.
    expect(container.resources.requests.cpu).toBeDefined();
  });

  test("PodDisruptionBudget: covers the pods and always leaves most of them running", () => {
    const pdb = k8sObject("PodDisruptionBudget");
    expect(pdb.apiVersion).toBe("policy/v1");
    const pdbSpec = pdb.spec as { selector: LabelSelector; maxUnavailable?: number; minAvailable?: number };
    expect(selects(pdbSpec.selector.matchLabels)).toBe(true);
    const unavailable = pdbSpec.maxUnavailable ?? spec.replicas - (pdbSpec.minAvailable ?? spec.replicas);
    expect(unavailable).toBeGreaterThanOrEqual(1);
    expect(unavailable).toBeLessThan(spec.replicas / 2);
  });

  test("NetworkPolicy: ingress to the service port from Kong's pods and Prometheus's, each in its namespace, nothing else", () => {
    const policy = k8sObject("NetworkPolicy").spec as NetworkPolicySpec;
    expect(selects(policy.podSelector.matchLabels)).toBe(true);
    expect(policy.policyTypes).toEqual(["Ingress"]);
    const peers = policy.ingress.map((rule) => {
      // One peer carrying both selectors means "these pods AND in that namespace"; two peers would be OR.
      expect(rule.from).toHaveLength(1);
      const peer = rule.from[0];
      expect(peer?.ipBlock).toBeUndefined();
      expect(rule.ports).toHaveLength(1);
      expect(rule.ports[0]?.protocol).toBe("TCP");
      expect(containerPort(rule.ports[0]?.port)).toBe(podConfig().app.port);
      return [peer?.namespaceSelector?.matchLabels, peer?.podSelector?.matchLabels];
    });
    expect(peers).toEqual([
      [{ "kubernetes.io/metadata.name": "kong" }, { "app.kubernetes.io/name": "kong" }],
      [{ "kubernetes.io/metadata.name": "monitoring" }, { "app.kubernetes.io/name": "prometheus" }],
    ]);
  });

  test("Prometheus scrape annotations point at GET /metrics on the port the service listens on", () => {
    const annotations = spec.template.metadata.annotations ?? {};
    expect(annotations["prometheus.io/scrape"]).toBe("true");
    expect(Number(annotations["prometheus.io/port"])).toBe(podConfig().app.port);
    const path = annotations["prometheus.io/path"] ?? "";
    const answers = served.paths[path]?.get?.responses["200"] as { content: Record<string, unknown> };
    expect(Object.keys(answers.content)).toEqual(
      expect.arrayContaining(["text/plain", "application/openmetrics-text"]),
    );
  });

  test("the PodMonitor example selects the pods and scrapes the same route on the named port, outside the kustomization", () => {
    const podMonitor = loadYaml<{
      kind: string;
      spec: { selector: LabelSelector; podMetricsEndpoints: { port: string; path: string }[] };
    }>("k8s/monitoring/podmonitor.yaml");
    expect(podMonitor.kind).toBe("PodMonitor");
    expect(selects(podMonitor.spec.selector.matchLabels)).toBe(true);
    const [endpoint] = podMonitor.spec.podMetricsEndpoints;
    expect(containerPort(endpoint?.port)).toBe(podConfig().app.port);
    expect(endpoint?.path).toBe(spec.template.metadata.annotations?.["prometheus.io/path"] as string);
    const kustomization = loadYaml<{ resources: string[] }>("k8s/kustomization.yaml");
    expect(kustomization.resources.some((resource) => resource.includes("podmonitor"))).toBe(false);
  });

  test("ConfigMap: only variables the service knows, no secret among them, production-valid with a real Secret", () => {
    const data = configMapData();
    for (const name of Object.keys(data)) {
      expect(KNOWN_ENV_VARS.has(name), name).toBe(true);
      expect(SECRET_NAMES.has(name), `${name} belongs in the Secret`).toBe(false);
    }
    expect(data.NODE_ENV).toBe("production");
    expect(data.PROFILING_ENABLED).toBe("false");
    expect(data.ALLOW_UNVERIFIED_GATEWAY).toBe("false");
    const config = podConfig();
    expect(config.app.environment).toBe("production");
    // A trust boundary with Kong, not the opt-out.
    expect(
      config.security.gatewaySecret !== undefined || config.security.trustedProxyCidrs !== undefined,
    ).toBe(true);
  });

  test("Secret template: known secret names, placeholders only, and the placeholders cannot start a pod", () => {
    const values = secret.stringData ?? {};
    expect(secret.data).toBeUndefined();
    expect(Object.keys(values).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(values)) {
      expect(SECRET_NAMES.has(name), name).toBe(true);
      expect(value, name).toBe("REPLACE_ME");
    }
    expect(() => loadConfig({ ...configMapData(), ...values })).toThrow();
  });

  test("manifests carry no namespace of their own: the kustomization sets it", () => {
    for (const { file, object } of k8sObjects() as { file: string; object: K8sObject }[]) {
      expect(object.metadata.namespace, file).toBeUndefined();
    }
  });
});
