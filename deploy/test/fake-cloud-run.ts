/**
 * A local stand-in for run.googleapis.com: the Cloud Run Admin API v2 REST routes the deploy tool
 * uses, speaking proto3 JSON the way the real API does (enums as integers when the client asks
 * for `enum-encoding=int`, Duration as "120s", long-running operations with an Any response).
 * Bodies are decoded with the real v2 proto types, so a field the API does not know fails here.
 * It keeps services, revisions, operations and IAM policies in memory, enforces the Cloud Run GPU
 * rules the deploy depends on, and records every request for the tests to assert on.
 *
 * Routes: GET/PATCH services/{s}, POST services?serviceId=, GET operations/{o},
 * GET services/{s}/revisions, GET services/{s}:getIamPolicy, POST services/{s}:setIamPolicy,
 * and GET /run-app/{s}/readyz (the service's own URL, checked with an ID token).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { protobuf, serializer } from 'google-gax';

const require = createRequire(import.meta.url);
const protosPath = join(dirname(require.resolve('@google-cloud/run')), '../protos/protos.json');
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(protosPath, 'utf8')) as protobuf.INamespace);
const ServiceType = root.lookupType('google.cloud.run.v2.Service');
const RevisionType = root.lookupType('google.cloud.run.v2.Revision');
const ServiceAny = 'type.googleapis.com/google.cloud.run.v2.Service';

/** Plain-object form used for state and assertions: enum names, numbers, Duration as {seconds}. */
export type Json = Record<string, unknown>;
const TO_OBJECT = { enums: String, longs: Number, defaults: false } as const;

/** The proto-normalised form of a Service object as the tool builds it (for equality with the wire). */
export function normalizeService(service: object): Json {
  return ServiceType.toObject(ServiceType.fromObject(service), TO_OBJECT);
}

class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The body as sent (proto3 JSON, enums as integers). */
  raw: unknown;
  /** For service bodies: decoded with the v2 Service type, enums as names. */
  service?: Json;
  authorization: string | undefined;
}

interface StoredService {
  spec: Json;
  revisions: Json[];
  generation: number;
  etag: string;
}

interface Operation {
  polls: number;
  result: { service: Json } | { error: { code: number; message: string } };
}

export interface FakeCloudRunOptions {
  /** Times an operation is polled before it reports done (1: the first poll says "not yet"). */
  pollsUntilDone?: number;
  /** revisions.list page size, small so that the client has to follow nextPageToken. */
  pageSize?: number;
  /** The token GET /run-app/{s}/readyz accepts as `Bearer`; undefined: no auth required. */
  invokerToken?: string;
}

export class FakeCloudRun {
  readonly calls: RecordedCall[] = [];
  readonly services = new Map<string, StoredService>();
  readonly policies = new Map<string, Json>();
  /** Make the next create/update's new revision fail its startup probe. */
  failNextRollout: string | undefined;
  #operations = new Map<string, Operation>();
  #server: Server | undefined;
  #clock = Date.UTC(2026, 4, 1) / 1000;
  url = '';

  constructor(readonly options: FakeCloudRunOptions = {}) {}

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  callsTo(method: string, pattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      raw: text ? JSON.parse(text) : undefined,
      authorization: req.headers.authorization,
    };
    this.calls.push(call);
    try {
      const numericEnums = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
      const body = this.#route(call, numericEnums);
      res.writeHead(body.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body.json));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, 'INTERNAL', String(error));
      res.writeHead(e.httpStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: e.httpStatus, message: e.message, status: e.status } }));
    }
  }

  #route(call: RecordedCall, numericEnums: boolean): { status?: number; json: unknown } {
    const p = call.path;
    const encode = (service: Json) => serviceJson(service, numericEnums);
    let m: RegExpExecArray | null;
    if (/^\/run-app\/[^/]+\/readyz$/.test(p)) return this.#readyz(call);
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/:]+):getIamPolicy$/.exec(p))) {
      this.#existing(m[1]!);
      return { json: this.policies.get(m[1]!) ?? { version: 1, etag: 'BwYA' } };
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/:]+):setIamPolicy$/.exec(p))) {
      this.#existing(m[1]!);
      const policy = (call.raw as { policy: Json }).policy;
      this.policies.set(m[1]!, { ...policy, etag: Buffer.from(randomUUID()).toString('base64') });
      return { json: this.policies.get(m[1]!) };
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+)\/revisions$/.exec(p))) {
      return { json: this.#listRevisions(m[1]!, call.query.pageToken, numericEnums) };
    }
    if (
      (m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/.exec(p)) &&
      call.method === 'GET'
    ) {
      return { json: this.#pollOperation(m[1]!, numericEnums) };
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/services$/.exec(p)) && call.method === 'POST') {
      return { json: this.#create(m[1]!, call) };
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+)$/.exec(p))) {
      if (call.method === 'GET') return { json: encode(this.#view(m[1]!)) };
      if (call.method === 'PATCH') return { json: this.#update(m[1]!, call) };
    }
    throw new ApiError(404, 'NOT_FOUND', `no route ${call.method} ${p}`);
  }

  #existing(name: string): StoredService {
    const stored = this.services.get(name);
    if (!stored) throw new ApiError(404, 'NOT_FOUND', `Resource '${name}' was not found`);
    return stored;
  }

  #decodeService(call: RecordedCall): Json {
    try {
      const message = serializer.fromProto3JSON(ServiceType, call.raw as never);
      if (!message) throw new Error('empty body');
      call.service = ServiceType.toObject(message, TO_OBJECT);
      return call.service;
    } catch (error) {
      throw new ApiError(400, 'INVALID_ARGUMENT', `Invalid JSON payload: ${(error as Error).message}`);
    }
  }

  #create(parent: string, call: RecordedCall): Json {
    const id = call.query.serviceId ?? '';
    if (!/^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/.test(id)) {
      throw new ApiError(400, 'INVALID_ARGUMENT', `service_id "${id}" is invalid`);
    }
    const name = `${parent}/services/${id}`;
    if (this.services.has(name))
      throw new ApiError(409, 'ALREADY_EXISTS', `Resource '${name}' already exists`);
    const spec = { ...this.#decodeService(call), name };
    validateGpuService(spec);
    const stored: StoredService = { spec: {}, revisions: [], generation: 0, etag: '' };
    this.#apply(name, stored, spec);
    this.services.set(name, stored);
    return this.#operation(parent, name);
  }

  #update(name: string, call: RecordedCall): Json {
    // The client moves service.name into the URL (the REST binding) and leaves it out of the body.
    const decoded = this.#decodeService(call);
    const stored = this.#existing(name);
    if (decoded.name !== undefined && decoded.name !== name) {
      throw new ApiError(400, 'INVALID_ARGUMENT', 'service.name must match the URL');
    }
    const spec: Json = { ...decoded, name };
    if (spec.etag && spec.etag !== stored.etag) {
      throw new ApiError(409, 'ABORTED', `etag mismatch: the service was changed since it was read`);
    }
    validateGpuService(spec);
    this.#apply(name, stored, spec);
    return this.#operation(name.replace(/\/services\/.*/, ''), name);
  }

  /** A new revision when the template changed (as Cloud Run does), then traffic resolution. */
  #apply(name: string, stored: StoredService, spec: Json): void {
    const template = (spec.template ?? {}) as Json;
    const previous = stored.spec.template;
    // Proto3 semantics: a field set to its default is the same as an absent one (a read-modify-
    // write sends `revision: ""`, `workingDir: ""`, ... back), so compare without defaults.
    if (canonical(previous) !== canonical(template)) {
      this.#clock += 60;
      const serviceId = name.slice(name.lastIndexOf('/') + 1);
      const short = `${serviceId}-${String(stored.revisions.length + 1).padStart(5, '0')}-${randomUUID().slice(0, 3)}`;
      const failed = this.failNextRollout;
      this.failNextRollout = undefined;
      stored.revisions.unshift({
        name: `${name}/revisions/${short}`,
        service: name,
        createTime: { seconds: this.#clock },
        containers: template.containers,
        scaling: template.scaling,
        nodeSelector: template.nodeSelector,
        maxInstanceRequestConcurrency: template.maxInstanceRequestConcurrency,
        timeout: template.timeout,
        gpuZonalRedundancyDisabled: template.gpuZonalRedundancyDisabled,
        conditions: [
          failed
            ? { type: 'Ready', state: 'CONDITION_FAILED', message: failed }
            : { type: 'Ready', state: 'CONDITION_SUCCEEDED' },
        ],
      });
    }
    const traffic = ((spec.traffic as Json[] | undefined) ?? []).length
      ? (spec.traffic as Json[])
      : [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }];
    const total = traffic.reduce((sum, t) => sum + Number(t.percent ?? 0), 0);
    if (total !== 100)
      throw new ApiError(400, 'INVALID_ARGUMENT', `traffic percents sum to ${total}, not 100`);
    for (const target of traffic) {
      if (target.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION') {
        const revision = stored.revisions.find((r) =>
          (r.name as string).endsWith(`/revisions/${String(target.revision)}`),
        );
        if (!revision)
          throw new ApiError(400, 'INVALID_ARGUMENT', `revision ${String(target.revision)} does not exist`);
      }
    }
    stored.generation++;
    stored.etag = `"${randomUUID()}"`;
    delete spec.etag;
    stored.spec = { ...spec, traffic };
  }

  #operation(parent: string, name: string): Json {
    const opName = `${parent}/operations/${randomUUID()}`;
    const latest = this.#existing(name).revisions[0];
    const failure = (latest?.conditions as Json[] | undefined)?.find((c) => c.state === 'CONDITION_FAILED');
    this.#operations.set(opName, {
      polls: 0,
      result: failure
        ? {
            error: {
              code: 9,
              message: `Revision '${shortOf(latest!.name)}' is not ready: ${String(failure.message)}`,
            },
          }
        : { service: this.#view(name) },
    });
    return {
      name: opName,
      metadata: { '@type': ServiceAny, ...serviceJson(this.#view(name), true) },
      done: false,
    };
  }

  #pollOperation(name: string, numericEnums: boolean): Json {
    const op = this.#operations.get(name);
    if (!op) throw new ApiError(404, 'NOT_FOUND', `operation ${name} not found`);
    op.polls++;
    if (op.polls < (this.options.pollsUntilDone ?? 2)) return { name, done: false };
    if ('error' in op.result) return { name, done: true, error: op.result.error };
    return {
      name,
      done: true,
      response: { '@type': ServiceAny, ...serviceJson(op.result.service, numericEnums) },
    };
  }

  /** The service as GET returns it: the spec plus the output-only fields Cloud Run computes. */
  #view(name: string): Json {
    const stored = this.#existing(name);
    const ready = stored.revisions.find((r) => (r.conditions as Json[])[0]!.state === 'CONDITION_SUCCEEDED');
    const serviceId = shortOf(name);
    const trafficStatuses = (stored.spec.traffic as Json[]).map((t) =>
      t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
        ? { type: t.type, percent: t.percent }
        : { type: t.type, revision: t.revision, percent: t.percent },
    );
    return {
      ...stored.spec,
      uid: serviceId,
      generation: stored.generation,
      observedGeneration: stored.generation,
      etag: stored.etag,
      uri: `${this.url}/run-app/${serviceId}`,
      latestCreatedRevision: stored.revisions[0]?.name,
      latestReadyRevision: ready?.name,
      trafficStatuses,
      terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' },
    };
  }

  #listRevisions(parent: string, pageToken: string | undefined, numericEnums: boolean): Json {
    const revisions = this.#existing(parent).revisions;
    const size = this.options.pageSize ?? 2;
    const start = pageToken ? Number(pageToken) : 0;
    const page = revisions
      .slice(start, start + size)
      .map((r) => serializer.toProto3JSON(RevisionType.fromObject(r), { numericEnums }));
    const next = start + size < revisions.length ? String(start + size) : undefined;
    return { revisions: page, ...(next ? { nextPageToken: next } : {}) };
  }

  #readyz(call: RecordedCall): { status: number; json: unknown } {
    const expected = this.options.invokerToken;
    if (expected !== undefined && call.authorization !== `Bearer ${expected}`) {
      return { status: call.authorization ? 403 : 401, json: { error: 'forbidden' } };
    }
    return { status: 200, json: { status: 'ready' } };
  }
}

function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value.map(withoutDefaults) : undefined;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, withoutDefaults(v)] as const)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  if (value === '' || value === 0 || value === false) return undefined;
  if (typeof value === 'string' && value.endsWith('_UNSPECIFIED')) return undefined;
  return value;
}

const canonical = (value: unknown) => JSON.stringify(withoutDefaults(value) ?? null);

const shortOf = (name: unknown) => String(name).slice(String(name).lastIndexOf('/') + 1);

function serviceJson(service: Json, numericEnums: boolean): Json {
  return serializer.toProto3JSON(ServiceType.fromObject(service), { numericEnums }) as Json;
}

/** The subset of Cloud Run's admission rules for GPU services that the deploy must satisfy. */
function validateGpuService(spec: Json): void {
  const template = (spec.template ?? {}) as Json;
  const containers = (template.containers ?? []) as Json[];
  const bad = (message: string) => new ApiError(400, 'INVALID_ARGUMENT', message);
  if (containers.length === 0) throw bad('template.containers: at least one container is required');
  for (const container of containers)
    if (!container.image) throw bad('template.containers[].image is required');
  const resources = (containers[0]!.resources ?? {}) as Json;
  const limits = (resources.limits ?? {}) as Record<string, string>;
  const accelerator = (template.nodeSelector as Json | undefined)?.accelerator;
  if (!limits['nvidia.com/gpu'] !== !accelerator) {
    throw bad('nodeSelector.accelerator and the nvidia.com/gpu limit must be set together');
  }
  if (!accelerator) return;
  if (accelerator !== 'nvidia-l4') throw bad(`unsupported accelerator ${JSON.stringify(accelerator)}`);
  if (limits['nvidia.com/gpu'] !== '1') throw bad('exactly one GPU per instance is supported');
  if (Number(limits.cpu) < 4) throw bad('a GPU instance needs at least 4 CPUs');
  const memory = /^(\d+)(Gi|Mi)$/.exec(limits.memory ?? '');
  if (!memory || Number(memory[1]) * (memory[2] === 'Gi' ? 1024 : 1) < 16 * 1024) {
    throw bad('a GPU instance needs at least 16Gi of memory');
  }
  if (resources.cpuIdle !== false) throw bad('GPU services require CPU always allocated (cpuIdle: false)');
  if (template.executionEnvironment === 'EXECUTION_ENVIRONMENT_GEN1')
    throw bad('GPUs need the gen2 environment');
}
