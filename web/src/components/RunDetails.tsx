// A run as the console shows it: its status, who started it, how and where,
// each action's result, its outputs and its errors; and cancelling it, for
// those the API lets (its initiator, the flow's owner and co-owners).
import {
  Badge,
  Button,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  type BadgeProps,
} from '@fluentui/react-components';
import { isFinal } from '../../../lib/domain/runLifecycle';
import { can } from '../../../lib/domain/roles';
import { api, ask, type Machine, type Role, type Run, type RunStatus } from '../api/client';
import { useSession } from '../session';
import { useAction } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { when } from './layout';

/** How often a page showing a run that has not ended asks again (the API's Retry-After says 2 s). */
export const RUN_POLL_MS = 2000;

const STATUS_COLORS: Record<RunStatus, BadgeProps['color']> = {
  Queued: 'informative',
  Dispatched: 'informative',
  Running: 'brand',
  Succeeded: 'success',
  Failed: 'danger',
  Cancelled: 'subtle',
  TimedOut: 'danger',
  Rejected: 'danger',
};

const STATUS_NAMES: Record<RunStatus, string> = {
  Queued: 'Queued',
  Dispatched: 'Dispatched',
  Running: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
  TimedOut: 'Timed out',
  Rejected: 'Rejected',
};

export const MODE_NAMES = { attended: 'Attended (console)', cloud: 'Cloud' } as const;

export function ended(run: Run): boolean {
  return isFinal(run.status);
}

export function RunStatusBadge({ run }: { run: Run }) {
  const asked = run.status === 'Running' && run.cancelRequested;
  return (
    <Badge appearance="tint" color={STATUS_COLORS[run.status]} data-run-status={run.status}>
      {STATUS_NAMES[run.status]}
      {asked ? ', cancel requested' : ''}
    </Badge>
  );
}

/** Where a run's own page is: below its flow's (a run id holds a dot, which a path's end would take for a file's). */
export function runPageHref(run: Pick<Run, 'id' | 'flowId'>): string {
  const own = run.id.startsWith(`${run.flowId}.`) ? run.id.slice(run.flowId.length + 1) : run.id;
  return `/flows/${encodeURIComponent(run.flowId)}/runs/${encodeURIComponent(own)}`;
}

export function personName(principalId: string, me: string): string {
  return principalId === me ? `${principalId} (you)` : principalId;
}

/** Where the run executes: my machine by its name; another's is theirs alone, named by nothing more. */
export function machineName(run: Run, machines: Machine[] | undefined, me: string): string {
  if (!run.machineId) return run.mode === 'attended' ? "its initiator's console" : '';
  const mine = machines?.find((m) => m.id === run.machineId);
  if (mine) return mine.name;
  if (run.initiatedBy !== me) return `${run.initiatedBy}'s machine`;
  return machines ? 'one of yours, since deleted' : '';
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** How long it ran, or has been running. */
export function runDuration(run: Run): string {
  if (!run.startedAt) return '';
  const end = run.completedAt ? Date.parse(run.completedAt) : Date.now();
  return duration(Math.max(0, end - Date.parse(run.startedAt)));
}

/** Everything about a run the caller may see. */
export function RunDetails({ run, machines, role }: { run: Run; machines: Machine[] | undefined; role: Role }) {
  const session = useSession();
  const label = `run of ${when(run.createdAt)}`;
  const seesResults = run.initiatedBy === session.principalId || can(role, 'readRunHistory');
  return (
    <div className="run-details">
      <dl className="details">
        <dt>
          <Text weight="semibold">Status</Text>
        </dt>
        <dd>
          <RunStatusBadge run={run} />
        </dd>
        <dt>
          <Text weight="semibold">Started by</Text>
        </dt>
        <dd>{personName(run.initiatedBy, session.principalId)}</dd>
        <dt>
          <Text weight="semibold">Mode</Text>
        </dt>
        <dd>{MODE_NAMES[run.mode]}</dd>
        <dt>
          <Text weight="semibold">Machine</Text>
        </dt>
        <dd>{machineName(run, machines, session.principalId)}</dd>
        <dt>
          <Text weight="semibold">Requested</Text>
        </dt>
        <dd>{when(run.createdAt)}</dd>
        {run.startedAt ? (
          <>
            <dt>
              <Text weight="semibold">Started</Text>
            </dt>
            <dd>{when(run.startedAt)}</dd>
          </>
        ) : null}
        {run.completedAt ? (
          <>
            <dt>
              <Text weight="semibold">Ended</Text>
            </dt>
            <dd>
              {when(run.completedAt)}
              {run.startedAt ? ` (after ${runDuration(run)})` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {run.errors?.length ? (
        <>
          <Text weight="semibold" block>
            Why it {run.status === 'Rejected' ? 'was rejected' : 'ended so'}
          </Text>
          <ul aria-label={`Errors of the ${label}`}>
            {run.errors.map((error, i) => (
              <li key={i}>
                {error.logicalName ? <strong>{error.logicalName}: </strong> : null}
                {error.detail} <code>({error.code})</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <Text weight="semibold" block>
        Action results
      </Text>
      {run.actions?.length ? (
        <Table aria-label={`Action results of the ${label}`} size="extra-small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Action</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
              <TableHeaderCell>Started</TableHeaderCell>
              <TableHeaderCell>Duration</TableHeaderCell>
              <TableHeaderCell>Error</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {run.actions.map((action, i) => (
              <TableRow key={i} data-action={action.name}>
                <TableCell>{action.name}</TableCell>
                <TableCell>
                  <Badge
                    appearance="outline"
                    color={action.status === 'Succeeded' ? 'success' : action.status === 'Failed' ? 'danger' : 'subtle'}
                  >
                    {action.status}
                  </Badge>
                </TableCell>
                <TableCell>{when(action.startedAt)}</TableCell>
                <TableCell>{duration(action.durationMs)}</TableCell>
                <TableCell>
                  {action.error ? (
                    <>
                      {action.error.detail} <code>({action.error.code})</code>
                    </>
                  ) : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text block>
          {!seesResults
            ? 'What it did is shown only to whoever started it and to the flow’s owners and co-owners.'
            : ended(run)
              ? 'It reported no action results.'
              : 'Its action results show once it has ended.'}
        </Text>
      )}
      {run.outputs !== undefined ? (
        <>
          <Text weight="semibold" block id={`outputs-${run.id}`}>
            Outputs
          </Text>
          <pre className="definition" aria-labelledby={`outputs-${run.id}`} tabIndex={0}>
            {JSON.stringify(run.outputs, null, 2)}
          </pre>
        </>
      ) : null}
    </div>
  );
}

/** Whether the caller may cancel the run, as the API decides: its initiator, or an owner or co-owner of its flow. */
export function mayCancel(run: Run, role: Role, me: string): boolean {
  return !ended(run) && !run.cancelRequested && (run.initiatedBy === me || can(role, 'cancelRun'));
}

export function CancelRunButton(props: { run: Run; role: Role; onCancelled: (run: Run) => void; label: string }) {
  const session = useSession();
  const action = useAction();
  const { run } = props;
  if (!mayCancel(run, props.role, session.principalId)) return null;
  const cancel = () =>
    action.run(async () => {
      props.onCancelled(await ask(api.POST('/runs/{runId}/cancel', { params: { path: { runId: run.id } } })));
    });
  return (
    <>
      <Button
        size="small"
        onClick={() => void cancel()}
        disabledFocusable={action.busy}
        aria-label={`Cancel ${props.label}`}
      >
        Cancel run
      </Button>
      <ProblemMessage error={action.error} />
    </>
  );
}
