/**
 * What Chrome DevTools needs from the files it opens, as checks that return a list of problems
 * (empty when the file is usable). The Performance panel reads a `.cpuprofile` as the Chrome
 * DevTools Protocol's `Profiler.Profile`; the Memory panel reads a V8 `.heapsnapshot`, a flat
 * encoding whose arrays are interpreted through `snapshot.meta`.
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isIntArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((item) => Number.isInteger(item));

export function cpuProfileProblems(profile: unknown): string[] {
  if (!isObject(profile)) return ["not an object"];
  const problems: string[] = [];
  const { nodes, samples, timeDeltas, startTime, endTime } = profile;
  if (!Array.isArray(nodes) || nodes.length === 0) return ["nodes is not a non-empty array"];
  if (!isIntArray(samples)) problems.push("samples is not an array of integers");
  if (!isIntArray(timeDeltas)) problems.push("timeDeltas is not an array of integers");
  if (typeof startTime !== "number" || typeof endTime !== "number" || startTime > endTime) {
    problems.push("startTime/endTime are not numbers in order");
  }

  const ids = new Set<number>();
  const children = new Set<number>();
  for (const node of nodes) {
    if (!isObject(node) || !Number.isInteger(node.id)) {
      problems.push(`node without an integer id: ${JSON.stringify(node)}`);
      continue;
    }
    const id = node.id as number;
    if (ids.has(id)) problems.push(`duplicate node id ${id}`);
    ids.add(id);
    const frame = node.callFrame;
    if (
      !isObject(frame) ||
      typeof frame.functionName !== "string" ||
      typeof frame.scriptId !== "string" ||
      typeof frame.url !== "string" ||
      !Number.isInteger(frame.lineNumber) ||
      !Number.isInteger(frame.columnNumber)
    ) {
      problems.push(`node ${id} has no complete callFrame`);
    }
    if (node.hitCount !== undefined && !Number.isInteger(node.hitCount)) problems.push(`node ${id} hitCount`);
    if (node.children !== undefined) {
      if (!isIntArray(node.children)) problems.push(`node ${id} children`);
      else for (const child of node.children) children.add(child);
    }
  }
  for (const child of children) if (!ids.has(child)) problems.push(`child ${child} is not a node`);
  const roots = [...ids].filter((id) => !children.has(id));
  if (roots.length !== 1) problems.push(`expected one root node, found ${roots.length}`);

  if (isIntArray(samples) && isIntArray(timeDeltas)) {
    if (samples.length !== timeDeltas.length) problems.push("samples and timeDeltas differ in length");
    const unknown = samples.filter((sample) => !ids.has(sample));
    if (unknown.length > 0) problems.push(`${unknown.length} samples name no node`);
  }
  return problems;
}

export function heapSnapshotProblems(snapshot: unknown): string[] {
  if (!isObject(snapshot)) return ["not an object"];
  const { snapshot: header, nodes, edges, strings } = snapshot;
  if (!isObject(header) || !isObject(header.meta)) return ["no snapshot.meta"];
  const meta = header.meta;
  const nodeFields = meta.node_fields;
  const edgeFields = meta.edge_fields;
  if (!Array.isArray(nodeFields) || !Array.isArray(edgeFields)) return ["meta lacks node_fields/edge_fields"];
  if (!Array.isArray(meta.node_types) || !Array.isArray(meta.edge_types)) return ["meta lacks types"];
  if (!isIntArray(nodes) || !isIntArray(edges)) return ["nodes/edges are not integer arrays"];
  if (!Array.isArray(strings) || !strings.every((item) => typeof item === "string")) {
    return ["strings is not an array of strings"];
  }

  const problems: string[] = [];
  const nodeWidth = nodeFields.length;
  const edgeWidth = edgeFields.length;
  if (nodes.length !== (header.node_count as number) * nodeWidth) problems.push("nodes length ≠ node_count");
  if (edges.length !== (header.edge_count as number) * edgeWidth) problems.push("edges length ≠ edge_count");

  // DevTools walks the edges of node i as the next node.edge_count entries, so the counts must
  // add up, and every edge must point at the start of a node record.
  const edgeCountField = nodeFields.indexOf("edge_count");
  const nameField = nodeFields.indexOf("name");
  const toNodeField = edgeFields.indexOf("to_node");
  if (edgeCountField < 0 || nameField < 0 || toNodeField < 0) return [...problems, "missing required fields"];
  let edgeTotal = 0;
  for (let offset = 0; offset < nodes.length; offset += nodeWidth) {
    edgeTotal += nodes[offset + edgeCountField] as number;
    const name = nodes[offset + nameField] as number;
    if (name < 0 || name >= strings.length) problems.push(`node at ${offset} names string ${name}`);
  }
  if (edgeTotal !== edges.length / edgeWidth) problems.push("node edge counts do not add up to edge_count");
  for (let offset = 0; offset < edges.length; offset += edgeWidth) {
    const to = edges[offset + toNodeField] as number;
    if (to % nodeWidth !== 0 || to >= nodes.length) {
      problems.push(`edge at ${offset} points at ${to}`);
      break;
    }
  }
  return problems;
}
