// The flow's audit trail, newest first, a page at a time.
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
import { useEffect, useState } from 'react';
import { api, ask, continuationOf, type AuditEntry } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { useAction } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Section, when } from './layout';

const PAGE = 20;

export function AuditSection({ flow, version }: FlowSectionProps) {
  const flowId = flow.id;
  const [entries, setEntries] = useState<AuditEntry[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const action = useAction();

  const load = async (continuationToken: string | undefined) => {
    const page = await ask(
      api.GET('/flows/{flowId}/audit', { params: { path: { flowId }, query: { top: PAGE, continuationToken } } }),
    );
    setEntries((before) => [...(continuationToken ? (before ?? []) : []), ...page.value]);
    setNext(continuationOf(page.nextLink));
  };

  useEffect(() => {
    void action.run(() => load(undefined));
  }, [flowId, version]);

  return (
    <Section title="Audit" id="audit">
      <ProblemMessage error={action.error} />
      {!entries && action.busy ? <Spinner size="tiny" label="Loading the audit trail" /> : null}
      {entries && entries.length === 0 ? <Text>Nothing has happened to this flow yet.</Text> : null}
      {entries && entries.length > 0 ? (
        <Table aria-label="Audit trail" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>When</TableHeaderCell>
              <TableHeaderCell>Who</TableHeaderCell>
              <TableHeaderCell>What</TableHeaderCell>
              <TableHeaderCell>Subject</TableHeaderCell>
              <TableHeaderCell>Details</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {entries.map((entry) => (
              <TableRow key={entry.id}>
                <TableCell>{when(entry.at)}</TableCell>
                <TableCell>{entry.actorId}</TableCell>
                <TableCell>{entry.action}</TableCell>
                <TableCell>{entry.subjectId ?? ''}</TableCell>
                <TableCell>
                  {Object.entries(entry.details ?? {})
                    .map(([name, value]) => `${name}: ${String(value)}`)
                    .join(', ')}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {next ? (
        <div>
          <Button onClick={() => void action.run(() => load(next))} disabled={action.busy}>
            Show older entries
          </Button>
        </div>
      ) : null}
    </Section>
  );
}
