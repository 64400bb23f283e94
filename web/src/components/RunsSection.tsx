// The flow's runs (owners and co-owners: the run history), newest first,
// each with its status, who started it, its mode and machine, its action
// results and outputs (shown on demand), and Cancel while it has not ended.
// The list is read again every two seconds while a run in it has not ended.
import {
  Button,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { Fragment, useEffect, useState } from 'react';
import { api, ask, type Run } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { myMachines } from '../pages/MachinesPage';
import { PageLink } from '../router';
import { useSession } from '../session';
import { useLoad } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Actions, Section, when } from './layout';
import {
  CancelRunButton,
  ended,
  machineName,
  MODE_NAMES,
  personName,
  RUN_POLL_MS,
  RunDetails,
  runPageHref,
  RunStatusBadge,
} from './RunDetails';

const PAGE_SIZE = 20;
/** A page of the API's run history at most: the newest runs are what a maker looks for here. */
const MAX_SHOWN = 100;

function summary(run: Run): string {
  if (!run.actions) return '';
  const counts = new Map<string, number>();
  for (const action of run.actions) counts.set(action.status, (counts.get(action.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status.toLowerCase()}`).join(', ') || 'none';
}

export function RunsSection({ flow, version, runsVersion }: FlowSectionProps & { runsVersion: number }) {
  const session = useSession();
  const flowId = flow.id;
  const [top, setTop] = useState(PAGE_SIZE);
  const runs = useLoad(
    () => ask(api.GET('/flows/{flowId}/runs', { params: { path: { flowId }, query: { top } } })),
    [flowId, version, runsVersion, top],
  );
  const machines = useLoad(myMachines, []);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const list = runs.data?.value;
  const going = list?.some((run) => !ended(run)) ?? false;

  // A run that has not ended changes without the page doing anything: ask again while there is one.
  useEffect(() => {
    if (!going || runs.loading) return;
    const timer = setTimeout(runs.reload, RUN_POLL_MS);
    return () => clearTimeout(timer);
  }, [going, runs.loading, runs.reload]);

  const toggle = (id: string) =>
    setOpen((now) => {
      const next = new Set(now);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <Section title="Runs" id="runs">
      <ProblemMessage error={runs.error} />
      {runs.loading && !runs.data ? <Spinner size="tiny" label="Loading the runs" /> : null}
      {list && list.length === 0 ? <Text>This flow has not run yet.</Text> : null}
      {list && list.length > 0 ? (
        <Table aria-label="Runs" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Requested</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
              <TableHeaderCell>Started by</TableHeaderCell>
              <TableHeaderCell>Mode</TableHeaderCell>
              <TableHeaderCell>Machine</TableHeaderCell>
              <TableHeaderCell>Action results</TableHeaderCell>
              <TableHeaderCell>
                <span className="visually-hidden">Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {list.map((run) => {
              const label = `run of ${when(run.createdAt)}`;
              const details = `run-details-${run.id}`;
              const expanded = open.has(run.id);
              return (
                <Fragment key={run.id}>
                  <TableRow data-run={run.id}>
                    <TableCell>
                      <PageLink href={runPageHref(run)}>{when(run.createdAt)}</PageLink>
                    </TableCell>
                    <TableCell>
                      <RunStatusBadge run={run} />
                    </TableCell>
                    <TableCell>{personName(run.initiatedBy, session.principalId)}</TableCell>
                    <TableCell>{MODE_NAMES[run.mode]}</TableCell>
                    <TableCell>{machineName(run, machines.data, session.principalId)}</TableCell>
                    <TableCell>{summary(run)}</TableCell>
                    <TableCell>
                      <Actions>
                        <Button
                          size="small"
                          id={`run-details-button-${run.id}`}
                          aria-expanded={expanded}
                          aria-controls={expanded ? details : undefined}
                          aria-label={`Details of the ${label}`}
                          onClick={() => toggle(run.id)}
                        >
                          Details
                        </Button>
                        <CancelRunButton
                          run={run}
                          role={flow.role}
                          label={label}
                          onCancelled={() => {
                            runs.reload();
                            // The button goes with the cancel: the focus stays on the run's row.
                            document.getElementById(`run-details-button-${run.id}`)?.focus();
                          }}
                        />
                      </Actions>
                    </TableCell>
                  </TableRow>
                  {expanded ? (
                    <TableRow data-run-details={run.id}>
                      <TableCell colSpan={7} id={details}>
                        <RunDetails run={run} machines={machines.data} role={flow.role} />
                      </TableCell>
                    </TableRow>
                  ) : null}
                </Fragment>
              );
            })}
          </TableBody>
        </Table>
      ) : null}
      {runs.data?.nextLink && top < MAX_SHOWN ? (
        <div>
          <Button onClick={() => setTop((t) => Math.min(MAX_SHOWN, t + PAGE_SIZE))}>Show more runs</Button>
        </div>
      ) : null}
      {runs.data?.nextLink && top >= MAX_SHOWN ? <Text>The newest {MAX_SHOWN} runs are shown.</Text> : null}
    </Section>
  );
}
