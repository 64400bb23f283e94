// The flow's connection references: connector, reference owner, the health
// of the bound connection, and "Embed in desktop flow", which only the
// reference owner may switch (others are told why not; users do not see it).
// Owners and co-owners bind a reference to one of their own connections; its
// owner rebinds or removes it; they try an action through it (TryAction.tsx).
import {
  Badge,
  Button,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogTitle,
  Field,
  Select,
  Spinner,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { can } from '../../../lib/domain/roles';
import { api, ask, type Connection, type ConnectionReference, type Connector } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { useSession } from '../session';
import { useAction, useLoad } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Actions, Section } from './layout';
import { AppDialog } from './AppDialog';
import { TryActionButton } from './TryAction';

/** A reference the definition names: added (bound) or not yet. */
interface Row {
  logicalName: string;
  reference?: ConnectionReference;
}

function namesInDefinition(definition: unknown): string[] {
  const actions = (definition as { actions?: { type?: string; connectionReference?: unknown }[] } | undefined)?.actions;
  const names = (actions ?? [])
    .filter((a) => a.type === 'connector' && typeof a.connectionReference === 'string')
    .map((a) => a.connectionReference as string);
  return [...new Set(names)];
}

export function StatusBadge({ status, reason }: { status: Connection['status']; reason?: string }) {
  const color = status === 'Connected' ? 'success' : status === 'PendingConsent' ? 'warning' : 'danger';
  const text = status === 'PendingConsent' ? 'Waiting for consent' : status;
  return (
    <Badge appearance="tint" color={color}>
      {reason ? `${text} (${reason})` : text}
    </Badge>
  );
}

export function ReferencesSection({ flow, version, changed }: FlowSectionProps) {
  const session = useSession();
  const flowId = flow.id;
  const references = useLoad(
    () => ask(api.GET('/flows/{flowId}/connection-references', { params: { path: { flowId } } })),
    [flowId, version],
  );
  const connectors = useLoad(() => ask(api.GET('/connectors')), []);
  const [binding, setBinding] = useState<Row | undefined>();
  const action = useAction();

  const connectorName = (id: string) => connectors.data?.value.find((c) => c.id === id)?.displayName ?? id;
  const bound = references.data?.value;
  // The references there are, then those the definition names that nobody has added yet.
  const rows: Row[] = bound
    ? [
        ...bound.map((reference) => ({ logicalName: reference.logicalName, reference })),
        ...namesInDefinition(flow.definition)
          .filter((name) => !bound.some((r) => r.logicalName === name))
          .map((logicalName) => ({ logicalName })),
      ]
    : [];
  const maker = can(flow.role, 'writeConnectionReferences');
  const mine = (reference: ConnectionReference | undefined) => reference?.ownerId === session.principalId;

  const setEmbedded = (reference: ConnectionReference, embedded: boolean) =>
    action.run(async () => {
      await ask(
        api.PATCH('/flows/{flowId}/connection-references/{logicalName}', {
          params: { path: { flowId, logicalName: reference.logicalName } },
          body: { embedded },
        }),
      );
      changed();
    });

  const remove = (reference: ConnectionReference) =>
    action.run(async () => {
      await ask(
        api.DELETE('/flows/{flowId}/connection-references/{logicalName}', {
          params: { path: { flowId, logicalName: reference.logicalName } },
        }),
      );
      changed();
    });

  return (
    <Section title="Connection references" id="references">
      <ProblemMessage error={references.error} />
      <ProblemMessage error={action.error} />
      {references.loading && !references.data ? <Spinner size="tiny" label="Loading connection references" /> : null}
      {references.data && rows.length === 0 ? <Text>The flow has no connector actions.</Text> : null}
      {rows.length > 0 ? (
        <Table aria-label="Connection references" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Reference</TableHeaderCell>
              <TableHeaderCell>Connector</TableHeaderCell>
              <TableHeaderCell>Reference owner</TableHeaderCell>
              <TableHeaderCell>Connection</TableHeaderCell>
              <TableHeaderCell>Health</TableHeaderCell>
              <TableHeaderCell>Embed in desktop flow</TableHeaderCell>
              <TableHeaderCell>
                <span className="visually-hidden">Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map(({ logicalName, reference }) => (
              <TableRow key={logicalName} data-reference={logicalName}>
                <TableCell>{logicalName}</TableCell>
                <TableCell>{reference ? connectorName(reference.connectorId) : ''}</TableCell>
                <TableCell>
                  {reference ? (mine(reference) ? `${reference.ownerId} (you)` : reference.ownerId) : ''}
                </TableCell>
                <TableCell>
                  {reference?.connection
                    ? reference.connection.displayName
                    : reference
                      ? `${reference.ownerId}'s`
                      : 'not bound'}
                </TableCell>
                <TableCell>{reference ? <StatusBadge status={reference.status} /> : null}</TableCell>
                <TableCell>
                  {reference ? (
                    <EmbedSwitch
                      reference={reference}
                      role={flow.role}
                      mine={mine(reference)}
                      busy={action.busy}
                      onChange={(embedded) => void setEmbedded(reference, embedded)}
                    />
                  ) : null}
                </TableCell>
                <TableCell>
                  <Actions>
                    {maker && (!reference || mine(reference)) ? (
                      <Button
                        size="small"
                        onClick={() => setBinding({ logicalName, reference })}
                        aria-label={`${reference ? 'Rebind' : 'Bind'} ${logicalName}`}
                      >
                        {reference ? 'Rebind' : 'Bind'}
                      </Button>
                    ) : null}
                    {reference && mine(reference) ? (
                      <Button
                        size="small"
                        onClick={() => void remove(reference)}
                        disabled={action.busy}
                        aria-label={`Remove ${logicalName}`}
                      >
                        Remove
                      </Button>
                    ) : null}
                    {reference ? (
                      <TryActionButton
                        flowId={flowId}
                        role={flow.role}
                        reference={reference}
                        connector={connectors.data?.value.find((c) => c.id === reference.connectorId)}
                        mine={mine(reference)}
                      />
                    ) : null}
                  </Actions>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {binding ? (
        <BindDialog
          flowId={flowId}
          row={binding}
          connectors={connectors.data?.value ?? []}
          onClose={(didBind) => {
            setBinding(undefined);
            if (didBind) changed();
          }}
        />
      ) : null}
    </Section>
  );
}

function EmbedSwitch(props: {
  reference: ConnectionReference;
  role: FlowSectionProps['flow']['role'];
  mine: boolean;
  busy: boolean;
  onChange: (embedded: boolean) => void;
}) {
  const { reference } = props;
  const state = reference.embedded ? 'Yes' : 'No';
  // Users run the flow with their own connections: embedding is none of theirs to see or change.
  if (props.role === 'user') return <Text>{state}</Text>;
  const why = `why-${reference.logicalName}`;
  return (
    <div>
      <Switch
        checked={reference.embedded}
        disabled={!props.mine || props.busy}
        aria-label={`Embed ${reference.logicalName} in desktop flow`}
        aria-describedby={props.mine ? undefined : why}
        label={state}
        onChange={(_, data) => props.onChange(data.checked)}
      />
      {props.mine ? null : (
        <Text size={200} id={why} block>
          Only {reference.ownerId}, the reference owner, can change this.
        </Text>
      )}
    </div>
  );
}

function BindDialog(props: { flowId: string; row: Row; connectors: Connector[]; onClose: (didBind: boolean) => void }) {
  const { row } = props;
  const connectorId = row.reference?.connectorId;
  const connections = useLoad(
    () => ask(api.GET('/connections', { params: { query: { top: 100, ...(connectorId ? { connectorId } : {}) } } })),
    [connectorId],
  );
  const [choice, setChoice] = useState('');
  const action = useAction();
  const options = connections.data?.value ?? [];
  const chosen = options.find((c) => c.id === (choice || options[0]?.id));
  const connectorName = (id: string) => props.connectors.find((c) => c.id === id)?.displayName ?? id;

  const bind = () =>
    action.run(async () => {
      if (!chosen) return;
      await ask(
        api.PUT('/flows/{flowId}/connection-references/{logicalName}', {
          params: { path: { flowId: props.flowId, logicalName: row.logicalName } },
          body: { connectorId: chosen.connectorId, connectionId: chosen.id },
        }),
      );
      props.onClose(true);
    });

  return (
    <AppDialog onClose={() => props.onClose(false)}>
      <DialogBody>
        <DialogTitle>
          {row.reference ? 'Rebind' : 'Bind'} {row.logicalName}
        </DialogTitle>
        <DialogContent>
          <ProblemMessage error={connections.error} />
          {connections.loading && !connections.data ? <Spinner size="tiny" label="Loading your connections" /> : null}
          {connections.data && options.length === 0 ? (
            <Text>
              You have no {connectorId ? connectorName(connectorId) : ''} connection yet: add one on the Connections
              page first.
            </Text>
          ) : null}
          {options.length > 0 ? (
            <Field
              label="One of your connections"
              hint="The reference will use it; only you can embed it for the flow's co-owners."
            >
              <Select value={chosen?.id ?? ''} onChange={(_, d) => setChoice(d.value)}>
                {options.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.displayName} ({connectorName(c.connectorId)}, {c.status})
                  </option>
                ))}
              </Select>
            </Field>
          ) : null}
          <ProblemMessage error={action.error} />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => props.onClose(false)}>Cancel</Button>
          <Button appearance="primary" onClick={() => void bind()} disabled={!chosen || action.busy}>
            Bind
          </Button>
        </DialogActions>
      </DialogBody>
    </AppDialog>
  );
}
