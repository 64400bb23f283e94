// Connections: mine alone, with status, the account each is connected as and
// where it is used; add one (an API key, or OAuth through the signed-in
// consent page), fix one (reauthorize: same id, same references), check one,
// delete one with its impact shown first.
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
import { useState } from 'react';
import { allPages, api, ask, type Connection, type ConnectionUsage } from '../api/client';
import { AddConnectionDialog, ConsentDialog, DeleteConnectionDialog } from '../components/ConnectionDialogs';
import { ProblemMessage } from '../components/ProblemMessage';
import { StatusBadge } from '../components/ReferencesSection';
import { Actions, PageHeading, when } from '../components/layout';
import { PageLink } from '../router';
import { useAction, useLoad } from '../useAsync';

interface Row {
  connection: Connection;
  usage: ConnectionUsage[];
}

async function myConnections(): Promise<Row[]> {
  const connections = await allPages((continuationToken) =>
    ask(api.GET('/connections', { params: { query: { top: 100, continuationToken } } })),
  );
  return Promise.all(
    connections.map(async (connection) => ({
      connection,
      usage: (
        await ask(api.GET('/connections/{connectionId}/usage', { params: { path: { connectionId: connection.id } } }))
      ).value,
    })),
  );
}

export function ConnectionsPage() {
  const rows = useLoad(myConnections, []);
  const connectors = useLoad(() => ask(api.GET('/connectors')), []);
  const [adding, setAdding] = useState(false);
  const [consenting, setConsenting] = useState<Connection | undefined>();
  const [deleting, setDeleting] = useState<Row | undefined>();
  const action = useAction();
  const connectorName = (id: string) => connectors.data?.value.find((c) => c.id === id)?.displayName ?? id;
  const oauth = (connection: Connection) =>
    connectors.data?.value.find((c) => c.id === connection.connectorId)?.authType === 'oauth2';

  const check = (connection: Connection) =>
    action.run(async () => {
      await ask(api.POST('/connections/{connectionId}/refresh', { params: { path: { connectionId: connection.id } } }));
      rows.reload();
    });

  const fix = (connection: Connection) =>
    action.run(async () => {
      const reopened = await ask(
        api.POST('/connections/{connectionId}/reauthorize', { params: { path: { connectionId: connection.id } } }),
      );
      setConsenting(reopened);
    });

  return (
    <>
      <PageHeading title="Connections">
        <Button appearance="primary" onClick={() => setAdding(true)}>
          Add connection
        </Button>
      </PageHeading>
      <Text block>
        Your connections are yours alone: nobody else sees them. A flow's co-owners can use one only where you embed it.
      </Text>
      <ProblemMessage error={rows.error} />
      <ProblemMessage error={action.error} />
      {rows.loading && !rows.data ? <Spinner label="Loading your connections" /> : null}
      {rows.data && rows.data.length === 0 ? <Text block>You have no connections yet.</Text> : null}
      {rows.data && rows.data.length > 0 ? (
        <Table aria-label="My connections" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Connector</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
              <TableHeaderCell>Connected as</TableHeaderCell>
              <TableHeaderCell>Used by</TableHeaderCell>
              <TableHeaderCell>Created</TableHeaderCell>
              <TableHeaderCell>
                <span className="visually-hidden">Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.data.map((row) => {
              const { connection } = row;
              return (
                <TableRow key={connection.id} data-connection={connection.displayName}>
                  <TableCell>{connection.displayName}</TableCell>
                  <TableCell>{connectorName(connection.connectorId)}</TableCell>
                  <TableCell>
                    <StatusBadge status={connection.status} reason={connection.statusReason} />
                  </TableCell>
                  <TableCell>{connection.account ?? ''}</TableCell>
                  <TableCell>
                    {row.usage.length === 0 ? (
                      'not used'
                    ) : (
                      <ul aria-label={`Where ${connection.displayName} is used`}>
                        {row.usage.map((u) => (
                          <li key={`${u.flowId}/${u.logicalName}`}>
                            <PageLink href={`/flows/${encodeURIComponent(u.flowId)}`}>{u.flowName}</PageLink>:{' '}
                            {u.logicalName}
                            {u.embedded ? ' (embedded)' : ''}
                          </li>
                        ))}
                      </ul>
                    )}
                  </TableCell>
                  <TableCell>{when(connection.createdAt)}</TableCell>
                  <TableCell>
                    <Actions>
                      {connection.status !== 'PendingConsent' ? (
                        <Button
                          size="small"
                          onClick={() => void check(connection)}
                          disabled={action.busy}
                          aria-label={`Check ${connection.displayName}`}
                        >
                          Check
                        </Button>
                      ) : null}
                      {oauth(connection) ? (
                        <Button
                          size="small"
                          onClick={() => void fix(connection)}
                          disabled={action.busy}
                          aria-label={`${connection.status === 'PendingConsent' ? 'Consent' : 'Fix'} ${connection.displayName}`}
                        >
                          {connection.status === 'PendingConsent' ? 'Consent' : 'Fix'}
                        </Button>
                      ) : null}
                      <Button
                        size="small"
                        onClick={() => setDeleting(row)}
                        aria-label={`Delete ${connection.displayName}`}
                      >
                        Delete
                      </Button>
                    </Actions>
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      ) : null}
      {adding ? (
        <AddConnectionDialog
          connectors={connectors.data?.value ?? []}
          onClose={() => {
            setAdding(false);
            rows.reload();
          }}
        />
      ) : null}
      {consenting ? (
        <ConsentDialog
          connection={consenting}
          connectorName={connectorName(consenting.connectorId)}
          onClose={() => {
            setConsenting(undefined);
            rows.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteConnectionDialog
          connection={deleting.connection}
          usage={deleting.usage}
          onClose={(deleted) => {
            setDeleting(undefined);
            if (deleted) rows.reload();
          }}
        />
      ) : null}
    </>
  );
}
