// Runs: the bring-your-own-connection prompt of attended console runs, the
// resolution of a console run, and what callers see of a run. The checks a
// cloud run must pass are in cloudRuns.ts, the lifecycle in runLifecycle.ts,
// leases and cancelling in leases.ts. Pure: no I/O.
import type { ConnectionStatus } from './connections';
import { DomainError, validationFailed } from './errors';
import { RawJson } from './rawJson';
import type { ConnectionReference } from './references';
import type { Role } from './roles';
import { publicStatus, type PublicRunStatus, type RunStatus } from './runLifecycle';

export const RUN_MODES = ['attended', 'cloud'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export type RunErrorCode =
  | 'FlowNotFound'
  | 'InitiatorNotAuthorized'
  | 'FlowSchemaNotV2'
  | 'ConnectionReferenceNotEmbedded'
  | 'ConnectionUnavailable'
  | 'ConnectionReferenceMissing'
  | 'MachineNotFound'
  | 'ProcessingFailed'
  | 'LeaseExpired'
  | 'NotLeased'
  | 'DefinitionInvalid'
  | 'OperationNotFound';

export interface RunError {
  code: RunErrorCode;
  detail: string;
  logicalName?: string;
}

/** Which connection served a reference, and whose it is. */
export interface RunConnection {
  connectionId: string;
  ownerId: string;
  source: CandidateSource;
}

export interface Run {
  tenantId: string;
  flowId: string;
  /** `<flowId>.<uuid>`: a run is found from its id alone. */
  id: string;
  mode: RunMode;
  status: RunStatus;
  initiatedBy: string;
  connections: Record<string, RunConnection>;
  errors?: RunError[];
  createdAt: string;
  completedAt?: string;
  /** When the processor claimed it for dispatch (internal). */
  claimedAt?: string;
  /** When a cloud run's request was last put on the queue again (internal). */
  requestedAgainAt?: string;
  /** The machine a cloud run is for: one of its initiator's. */
  machineId?: string;
  /** The inputs a cloud run was asked with, as the JSON object text sent. */
  inputsJson?: string;
  /** Its lease, once it is Running: the id its run token names, and until when it holds. */
  leaseId?: string;
  leaseExpiresAt?: string;
  /** When it began Running. */
  startedAt?: string;
  /** Who asked to cancel it while it was Running: it ends Cancelled. */
  cancelRequestedBy?: string;
  /** What its machine reported when it completed: the outputs (JSON object text) and each action. */
  outputsJson?: string;
  actions?: ActionResult[];
}

/** One action of a run, as its machine reports it on completion. */
export interface ActionResult {
  name: string;
  status: string;
  startedAt: string;
  durationMs: number;
  error?: { code: string; detail: string };
}

/** What a person asks of an attended run (lib/http/bodies.ts validates it). */
export interface RunRequest {
  /** Any mode is taken, so that a user asking for one they may not use is told so (403), not 400. */
  mode?: string;
  /** The connection picked for each reference, by logical name. */
  connections?: Map<string, string>;
}

/**
 * A record keyed by logical names, without a prototype: a name may be any id,
 * `constructor` and `__proto__` included, and must find only itself.
 */
export function byName<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [name, value] of entries) record[name] = value;
  return record;
}

export function runId(flowId: string, uuid: string): string {
  return `${flowId}.${uuid}`;
}

/** The flow and the run's own part of a run id; undefined when it cannot be one. */
export function parseRunId(id: string): { flowId: string; uuid: string } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot < 1 || dot === id.length - 1) return undefined;
  return { flowId: id.slice(0, dot), uuid: id.slice(dot + 1) };
}

// ---- the prompt -------------------------------------------------------------

export type CandidateSource = 'embedded' | 'own';

export interface Candidate {
  id: string;
  displayName: string;
  status: ConnectionStatus;
  source: CandidateSource;
}

export interface PromptEntry {
  logicalName: string;
  connectorId: string;
  embedded: boolean;
  candidates: Candidate[];
  defaultConnectionId: string | null;
}

export interface ConnectionSummary {
  id: string;
  ownerId: string;
  connectorId: string;
  displayName: string;
  status: ConnectionStatus;
  createdAt: string;
}

const isMaker = (role: Role | undefined) => role === 'owner' || role === 'coOwner';

/**
 * For each reference, what the caller may pick and what is picked for them.
 * Co-owners (and the owner) get an embedded reference's connection as the
 * default, with their own compatible connections beside it. Everyone else,
 * and everyone on a reference that is not embedded, gets their own compatible
 * connections, the oldest Connected one as the default. Users never see an
 * embedded connection.
 */
export function buildRunPrompt(
  references: ConnectionReference[],
  role: Role,
  callerId: string,
  /** The caller's own connections, oldest first. */
  own: ConnectionSummary[],
  /** The bound connections of embedded references, by connection id. */
  embeddedConnections: Map<string, ConnectionSummary>,
): PromptEntry[] {
  return references.map((reference) => {
    const compatible = own.filter((c) => c.connectorId === reference.connectorId);
    const lent = reference.embedded && isMaker(role) ? embeddedConnections.get(reference.connectionId) : undefined;
    const candidates: Candidate[] = [
      ...(lent
        ? [{ id: lent.id, displayName: lent.displayName, status: lent.status, source: 'embedded' as const }]
        : []),
      ...compatible
        .filter((c) => !(lent && c.id === lent.id && c.ownerId === callerId))
        .map((c) => ({ id: c.id, displayName: c.displayName, status: c.status, source: 'own' as const })),
    ];
    const defaultConnectionId = lent?.id ?? compatible.find((c) => c.status === 'Connected')?.id ?? null;
    return {
      logicalName: reference.logicalName,
      connectorId: reference.connectorId,
      embedded: reference.embedded,
      candidates,
      defaultConnectionId,
    };
  });
}

// ---- resolving a console run ---------------------------------------------------

export interface ResolveRequest {
  role: Role;
  callerId: string;
  mode: string | undefined;
  /** The connection asked for, by logical name. */
  requested: ReadonlyMap<string, string>;
  prompt: PromptEntry[];
  /** Who owns each candidate connection, by id (own ones and embedded ones). */
  ownerOf: Map<string, string>;
  /** Logical names the definition's connector actions use. */
  definitionReferences: string[];
  /** What else keeps the definition from running now (checkDefinitionForRun). */
  definitionErrors?: RunError[];
}

/**
 * The connection for every reference of an attended run: the one asked for,
 * else the default. Throws with every reference left without a usable one.
 */
export function resolveAttendedRun(request: ResolveRequest): Record<string, RunConnection> {
  if (request.mode !== undefined && request.mode !== 'attended') {
    if (!isMaker(request.role)) {
      throw new DomainError('RunModeNotAllowed', 'Users may only run a flow attended, at their own machine.');
    }
    throw validationFailed([
      {
        field: 'mode',
        detail: request.mode === 'cloud' ? 'cloud runs are started with POST .../cloud-runs' : 'must be "attended"',
      },
    ]);
  }
  const entries = new Map(request.prompt.map((entry) => [entry.logicalName, entry]));
  const unknown = [...request.requested.keys()].filter((name) => !entries.has(name));
  if (unknown.length > 0) {
    throw validationFailed(
      unknown.map((name) => ({ field: `connections.${name}`, detail: 'is not a connection reference of this flow' })),
    );
  }
  const notDefined = [...new Set(request.definitionReferences)].filter((name) => !entries.has(name));
  const definitionErrors = request.definitionErrors ?? [];
  if (notDefined.length > 0 || definitionErrors.length > 0) {
    throw new DomainError('Conflict', 'The flow definition cannot run as it is.', {
      errors: [
        ...notDefined.map((logicalName) => ({
          code: 'ConnectionReferenceMissing',
          logicalName,
          detail: 'no such reference',
        })),
        ...definitionErrors,
      ],
    });
  }

  const chosen = new Map<string, RunConnection>();
  const missing: Array<{ logicalName: string; connectorId: string }> = [];
  const refused: string[] = [];
  for (const entry of request.prompt) {
    const asked = request.requested.get(entry.logicalName);
    const id = asked ?? entry.defaultConnectionId;
    const candidate = id === null ? undefined : entry.candidates.find((c) => c.id === id);
    // A connection the caller may not use is answered like one that does not exist.
    if (asked !== undefined && !candidate) refused.push(entry.logicalName);
    else if (!candidate || candidate.status !== 'Connected') {
      missing.push({ logicalName: entry.logicalName, connectorId: entry.connectorId });
    } else {
      chosen.set(entry.logicalName, {
        connectionId: candidate.id,
        ownerId: request.ownerOf.get(candidate.id) ?? request.callerId,
        source: candidate.source,
      });
    }
  }
  if (refused.length > 0) {
    throw validationFailed(
      refused.map((name) => ({
        field: `connections.${name}`,
        detail: 'is not a connection you can use for this reference',
      })),
    );
  }
  if (missing.length > 0) {
    throw new DomainError('ConnectionRequired', 'Every connection reference needs a Connected connection of yours.', {
      missing,
    });
  }
  return byName(chosen);
}

// ---- what callers see ---------------------------------------------------------

export interface RunView {
  id: string;
  flowId: string;
  mode: RunMode;
  status: PublicRunStatus;
  initiatedBy: string;
  machineId?: string;
  /** The connection id per reference; null where it is someone else's and not lent to the viewer. */
  connections: Record<string, string | null>;
  errors?: RunError[];
  /** While Running: until when its lease holds, and whether someone asked to cancel it. */
  leaseExpiresAt?: string;
  cancelRequested?: boolean;
  /** Its outputs and action results, once completed, for its initiator and the flow's makers. */
  outputs?: RawJson;
  actions?: ActionResult[];
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
}

export function runView(run: Run, viewerId: string, viewerRole: Role): RunView {
  const connections = byName(
    Object.entries(run.connections).map(([name, c]) => {
      const visible = c.ownerId === viewerId || (c.source === 'embedded' && isMaker(viewerRole));
      return [name, visible ? c.connectionId : null] as const;
    }),
  );
  // What a run did is its initiator's and the makers': another user of the flow sees that it ran, not what it read.
  const seesResults = run.initiatedBy === viewerId || isMaker(viewerRole);
  const running = run.status === 'Running';
  return {
    id: run.id,
    flowId: run.flowId,
    mode: run.mode,
    status: publicStatus(run.status),
    initiatedBy: run.initiatedBy,
    ...(run.machineId ? { machineId: run.machineId } : {}),
    connections,
    ...(run.errors && run.errors.length > 0 ? { errors: run.errors } : {}),
    ...(running && run.leaseExpiresAt ? { leaseExpiresAt: run.leaseExpiresAt } : {}),
    ...(running ? { cancelRequested: run.cancelRequestedBy !== undefined } : {}),
    ...(seesResults && run.outputsJson !== undefined ? { outputs: new RawJson(run.outputsJson) } : {}),
    ...(seesResults && run.actions ? { actions: run.actions } : {}),
    createdAt: run.createdAt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.completedAt ? { completedAt: run.completedAt } : {}),
  };
}
