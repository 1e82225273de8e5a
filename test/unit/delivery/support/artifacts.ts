import { loadYaml, loadYamlDocuments, readRepoFile } from "./repo.ts";
import { interpolateCompose, renderDeckFile } from "./substitution.ts";

/** The parts of a decK file these tests read. */
export interface DeckPlugin {
  name: string;
  config?: Record<string, unknown>;
  service?: string;
  consumer?: string;
  route?: string;
}
export interface DeckRoute {
  name: string;
  paths?: string[];
  methods?: string[];
  strip_path?: boolean;
  plugins?: DeckPlugin[];
}
export interface DeckService {
  name: string;
  url: string;
  routes?: DeckRoute[];
  plugins?: DeckPlugin[];
}
export interface DeckJwtSecret {
  key: string;
  algorithm?: string;
  secret?: string;
}
export interface DeckConsumer {
  username: string;
  custom_id?: string;
  keyauth_credentials?: { key: string }[];
  jwt_secrets?: DeckJwtSecret[];
  [credentialKind: string]: unknown;
}
export interface DeckFile {
  _format_version: string;
  _info?: { select_tags?: string[] };
  services: DeckService[];
  plugins?: DeckPlugin[];
  consumers: DeckConsumer[];
}

/** The parts of a Compose file these tests read. */
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  user?: string;
  entrypoint?: string[];
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  profiles?: string[];
  healthcheck?: { test: string[] };
}
export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet: string }[] } } | null>;
}

/** Any Kubernetes object; each test narrows `spec` to the kind it reads. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

export const KONG_FILE = "kong/kong.yaml";
export const COMPOSE_FILE = "docker-compose.yml";

export const deckText = readRepoFile(KONG_FILE);
export const deck = loadYaml<DeckFile>(KONG_FILE);

/** docker-compose.yml as Compose sees it with nothing exported in the shell: the local demo values. */
export const compose = interpolateCompose(loadYaml<ComposeFile>(COMPOSE_FILE));

export function composeService(name: string): ComposeService {
  const service = compose.services[name];
  if (!service) throw new Error(`${COMPOSE_FILE} has no service ${name}`);
  return service;
}

/** kong/kong.yaml as the compose stack's decK one-shot renders it, with that service's DECK_* values. */
export function renderedDeck(): DeckFile {
  return renderDeckFile<DeckFile>(deckText, composeService("kong-config").environment ?? {});
}

export function k8sObjects(): { file: string; object: K8sObject }[] {
  const kustomization = loadYaml<{ resources: string[] }>("k8s/kustomization.yaml");
  return [...kustomization.resources, "secret.template.yaml"].flatMap((file) =>
    loadYamlDocuments<K8sObject>(`k8s/${file}`).map((object) => ({ file: `k8s/${file}`, object })),
  );
}

export function k8sObject(kind: string): K8sObject {
  const found = k8sObjects().filter(({ object }) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in k8s/, found ${found.length}`);
  return (found[0] as { object: K8sObject }).object;
}

export const authServiceEnv = (): Record<string, string> => composeService("auth-service").environment ?? {};
export const configMapData = (): Record<string, string> => k8sObject("ConfigMap").data ?? {};

/** The token service in kong.yaml: the one whose route serves GET /tokens. */
export function tokenService(file: DeckFile = deck): DeckService {
  const found = file.services.filter((service) =>
    service.routes?.some((route) => route.paths?.includes("/tokens")),
  );
  if (found.length !== 1) throw new Error(`expected one service routing /tokens, found ${found.length}`);
  return found[0] as DeckService;
}

/** The sample API: the service carrying the jwt plugin. */
export function protectedService(file: DeckFile = deck): DeckService {
  const found = file.services.filter((service) => service.plugins?.some((plugin) => plugin.name === "jwt"));
  if (found.length !== 1) throw new Error(`expected one service with the jwt plugin, found ${found.length}`);
  return found[0] as DeckService;
}

export function pluginOf(plugins: DeckPlugin[] | undefined, name: string): DeckPlugin {
  const found = (plugins ?? []).filter((plugin) => plugin.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name} plugin, found ${found.length}`);
  return found[0] as DeckPlugin;
}
