// Flow use cases: read the flow partition, let the domain decide, write back
// with the ETag that was read.
import type { Caller } from '../domain/caller';
import { DomainError } from '../domain/errors';
import {
  DEFAULT_SCHEMA_VERSION,
  EMPTY_DEFINITION_JSON,
  flowView,
  needsSchemaUpgrade,
  type AuditEntry,
  type Flow,
  type FlowView,
  type SchemaVersion,
} from '../domain/flows';
import { can, type FlowAction, type Role } from '../domain/roles';
import { ConcurrencyConflict } from '../storage/errors';
import { type FlowStore, type StoredFlow } from '../storage/flows';
import type { Page, PageRequest } from '../storage/pages';
import { type PrincipalIndex } from '../storage/principalIndex';
import { consoleLog, type Log } from '../log';
import { readFlowAs } from './access';
import { newId } from './ids';
import { retryOnConflict } from './retry';

/** A single resource with its version: the storage ETag of its row (lib/http shows it over HTTP). */
export interface Tagged<T> {
  value: T;
  etag: string;
}

/** What an If-Match header asks of a write: whether it accepts a version (a storage ETag). */
export interface IfMatch {
  allows(version: string): boolean;
}

export interface NewFlow {
  name: string;
  schemaVersion?: SchemaVersion;
  /** The definition exactly as sent, serialized. */
  definitionJson?: string;
}

export interface FlowEdit {
  name?: string;
  definitionJson?: string;
}

/** How many index pages a filtered list reads at most for one page of answer. */
export const MAX_FILTERED_INDEX_PAGES = 5;

export class FlowService {
  constructor(
    private readonly store: FlowStore,
    private readonly index: PrincipalIndex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(caller: Caller, input: NewFlow): Promise<Tagged<FlowView>> {
    const now = this.now();
    const at = now.toISOString();
    const flow: Flow = {
      tenantId: caller.tenantId,
      id: newId(now),
      name: input.name,
      schemaVersion: input.schemaVersion ?? DEFAULT_SCHEMA_VERSION,
      ownerId: caller.principalId,
      createdAt: at,
      modifiedAt: at,
    };
    const definitionJson = input.definitionJson ?? EMPTY_DEFINITION_JSON;
    // Index first: a failure after it leaves an index row that lists skip,
    // never a flow its owner cannot find.
    await this.index.add(caller.tenantId, caller.principalId, flow.id, at);
    const stored = await this.store.create(flow, definitionJson);
    return { value: flowView(stored, 'owner', definitionJson), etag: stored.etag };
  }

  async get(caller: Caller, flowId: string): Promise<Tagged<FlowView>> {
    // A definition blob can be replaced between reading the row and the blob; read both again.
    return retryOnConflict(async () => {
      const { flow, role } = await readFlowAs(this.store, caller, flowId, 'readFlow');
      const definitionJson = await this.store.definitionOf(flow);
      return { value: flowView(flow, role, definitionJson), etag: flow.etag };
    });
  }

  /**
   * The caller's flows, owned or shared, one index page at a time; with
   * `only`, those whose role allows that action. A filter may drop rows, so
   * each index page read asks only for as many as are still wanted: the page
   * never holds more than `top`, and its token resumes right after the last
   * row read. It reads at most MAX_FILTERED_INDEX_PAGES index pages, then
   * answers what it found, which may be fewer than `top`, with a token.
   */
  async list(caller: Caller, request: PageRequest, only?: FlowAction): Promise<Page<FlowView>> {
    const items: FlowView[] = [];
    let continuationToken = request.continuationToken;
    for (let read = 1; ; read++) {
      const page = await this.index.page(caller.tenantId, caller.principalId, {
        top: request.top - items.length,
        continuationToken,
      });
      const snapshots = await Promise.all(
        page.items.map((flowId) => this.store.read(caller.tenantId, flowId, [caller.principalId], { summary: true })),
      );
      for (const { flow, permissions } of snapshots) {
        const role = permissions.get(caller.principalId)?.role;
        if (flow && role && (!only || can(role, only))) items.push(flowView(flow, role));
      }
      continuationToken = page.continuationToken;
      if (!only || !continuationToken || items.length >= request.top || read >= MAX_FILTERED_INDEX_PAGES) {
        return { items, continuationToken };
      }
    }
  }

  async update(caller: Caller, flowId: string, edit: FlowEdit, ifMatch?: IfMatch): Promise<Tagged<FlowView>> {
    return this.writeWithEtag(caller, flowId, 'modifyFlow', ifMatch, async (flow, role) => {
      // Read before the write: the write's ETag check proves it is still the current one.
      const definitionJson = edit.definitionJson ?? (await this.store.definitionOf(flow));
      const changes = { ...edit, modifiedAt: this.now().toISOString() };
      const updated = await this.store.update(flow, changes, flow.etag);
      return { value: flowView(updated, role, definitionJson), etag: updated.etag };
    });
  }

  async delete(caller: Caller, flowId: string, ifMatch?: IfMatch, log: Log = consoleLog): Promise<void> {
    const deleted = await this.writeWithEtag(caller, flowId, 'deleteFlow', ifMatch, async (flow) => {
      await this.store.delete(flow, flow.etag);
      return flow;
    });
    // The flow is gone for everyone now; what follows only frees space, so a
    // failure is logged, not answered (the rows left are never read again).
    try {
      const principals = await this.store.purge(deleted);
      await Promise.all(principals.map((p) => this.index.remove(caller.tenantId, p, flowId)));
    } catch (error) {
      log.warn('the flow is deleted; cleaning up its rows failed and is left for later', { reason: errorName(error) });
    }
  }

  /** The flow's audit trail, newest first, for those who may change the flow. */
  async audit(caller: Caller, flowId: string, request: PageRequest): Promise<Page<AuditEntry & { id: string }>> {
    const [, page] = await Promise.all([
      readFlowAs(this.store, caller, flowId, 'readAudit', { summary: true }),
      this.store.listAudit(caller.tenantId, flowId, request),
    ]);
    return page;
  }

  /** Moves a v1 flow to v2; a v2 flow is answered as it is. */
  async upgradeSchema(caller: Caller, flowId: string): Promise<Tagged<FlowView>> {
    return retryOnConflict(async () => {
      const { flow, role } = await readFlowAs(this.store, caller, flowId, 'upgradeSchema');
      let result = flow;
      if (needsSchemaUpgrade(flow)) {
        const at = this.now().toISOString();
        result = await this.store.update(flow, { schemaVersion: 2, modifiedAt: at }, flow.etag, {
          action: 'schemaUpgraded',
          actorId: caller.principalId,
          at,
          details: { from: flow.schemaVersion, to: 2 },
        });
      }
      const definitionJson = await this.store.definitionOf(result);
      return { value: flowView(result, role, definitionJson), etag: result.etag };
    });
  }

  /**
   * A write that honours If-Match: with one, a changed flow answers 412; without
   * one (or with `*`: any version will do), a lost race is decided again on fresh state.
   */
  private async writeWithEtag<T>(
    caller: Caller,
    flowId: string,
    action: FlowAction,
    ifMatch: IfMatch | undefined,
    write: (flow: StoredFlow, role: Role) => Promise<T>,
  ): Promise<T> {
    const attempt = async () => {
      const { flow, role } = await readFlowAs(this.store, caller, flowId, action);
      if (ifMatch && !ifMatch.allows(flow.etag)) throw preconditionFailed();
      try {
        return await write(flow, role);
      } catch (error) {
        if (error instanceof ConcurrencyConflict && ifMatch) throw preconditionFailed();
        throw error;
      }
    };
    return retryOnConflict(attempt);
  }
}

function preconditionFailed(): DomainError {
  return new DomainError('PreconditionFailed', 'The flow has changed since you read it; read it again.');
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
