// The checks a cloud run must pass, all at once: cloud readiness and the
// cloud-run processor both ask `checkCloudRun` (docs/domain.md, "Runs"). Pure: no I/O.
import type { ConnectionStatus } from './connections';
import { walkActions } from './definitions';
import type { ConnectionReference } from './references';
import { can, type Role } from './roles';
import type { RunError } from './runs';

export interface CloudRunFacts {
  flow: { schemaVersion: number } | undefined;
  /** The role of whoever asked for the run, on the flow now. */
  initiatorRole: Role | undefined;
  references: ConnectionReference[];
  /** Status of each embedded reference's connection now; undefined when it is gone. */
  embeddedStatus: Map<string, ConnectionStatus | undefined>;
  definitionReferences: string[];
  /** What keeps the definition from running now (checkDefinitionForRun). */
  definitionErrors?: RunError[];
  /** Whether the machine the run is for still exists; undefined when no machine is asked about (readiness). */
  machineExists?: boolean;
}

/** Every reason a cloud run cannot start now, all at once; none means it can. */
export function checkCloudRun(facts: CloudRunFacts): RunError[] {
  if (!facts.flow) return [{ code: 'FlowNotFound', detail: 'The flow no longer exists.' }];
  const errors: RunError[] = [];
  // Asking was allowed then; running on the flow's embedded connections must still be.
  if (!can(facts.initiatorRole, 'runCloud')) {
    errors.push({
      code: 'InitiatorNotAuthorized',
      detail: 'Whoever asked for this run is no longer an owner or co-owner of the flow.',
    });
  }
  if (facts.flow.schemaVersion !== 2) {
    errors.push({ code: 'FlowSchemaNotV2', detail: 'Cloud runs need schema v2; upgrade the flow first.' });
  }
  for (const reference of facts.references) {
    if (!reference.embedded) {
      errors.push({
        code: 'ConnectionReferenceNotEmbedded',
        logicalName: reference.logicalName,
        detail: 'A cloud run has nobody to bring a connection: its reference owner must embed one.',
      });
    } else if (facts.embeddedStatus.get(reference.logicalName) !== 'Connected') {
      errors.push({
        code: 'ConnectionUnavailable',
        logicalName: reference.logicalName,
        detail: 'The embedded connection is not usable: it is gone, not Connected, or its token cannot be refreshed.',
      });
    }
  }
  if (facts.machineExists === false) {
    errors.push({ code: 'MachineNotFound', detail: 'The machine the run was asked for no longer exists.' });
  }
  const names = new Set(facts.references.map((r) => r.logicalName));
  for (const name of new Set(facts.definitionReferences)) {
    if (!names.has(name)) {
      errors.push({
        code: 'ConnectionReferenceMissing',
        logicalName: name,
        detail: 'The definition uses a connection reference that does not exist.',
      });
    }
  }
  errors.push(...(facts.definitionErrors ?? []));
  return errors;
}

/** The logical names the definition's connector actions use (in branches too), in order of first use. */
export function definitionReferences(definition: unknown): string[] {
  const actions = (definition as { actions?: unknown } | null)?.actions;
  const names = walkActions(actions)
    .map(({ action }) => action)
    .filter((action) => action.type === 'connector' && typeof action.connectionReference === 'string')
    .map((action) => action.connectionReference!);
  return [...new Set(names)];
}
