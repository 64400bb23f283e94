// Adding a connection (an API key, or OAuth through flowshare's consent page,
// which only its owner, signed in in this browser, can use), watching the
// consent finish, and deleting one with its impact shown first.
import {
  Button,
  Checkbox,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogTitle,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  Select,
  Text,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { api, ask, type Connection, type ConnectionUsage, type Connector } from '../api/client';
import { useAction } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { StatusBadge } from './ReferencesSection';
import { AppDialog } from './AppDialog';

/** How often the dialog asks whether consent has finished (in the other tab). */
const CONSENT_POLL_MS = 1000;

export function AddConnectionDialog(props: { connectors: Connector[]; onClose: () => void }) {
  const [connectorId, setConnectorId] = useState(props.connectors[0]?.id ?? '');
  const [displayName, setDisplayName] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [created, setCreated] = useState<Connection | undefined>();
  const action = useAction();
  const connector = props.connectors.find((c) => c.id === connectorId);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const connection = await ask(
        api.POST('/connections', {
          body: { connectorId, displayName, ...(connector?.authType === 'apiKey' ? { apiKey } : {}) },
        }),
      );
      // The key is not kept here once it is sent.
      setApiKey('');
      if (connection.status === 'PendingConsent') setCreated(connection);
      else props.onClose();
    });
  };

  return (
    <AppDialog onClose={() => props.onClose()}>
      {created ? (
        <ConsentStep connection={created} connectorName={connector?.displayName ?? ''} onClose={props.onClose} />
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <DialogBody>
            <DialogTitle>Add a connection</DialogTitle>
            <DialogContent>
              <Field label="Connector" required>
                <Select value={connectorId} onChange={(_, d) => setConnectorId(d.value)}>
                  {props.connectors.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.displayName} ({c.authType === 'apiKey' ? 'API key' : 'OAuth'})
                    </option>
                  ))}
                </Select>
              </Field>
              <Field label="Name" required>
                <Input value={displayName} onChange={(_, d) => setDisplayName(d.value)} />
              </Field>
              {connector?.authType === 'apiKey' ? (
                <Field label="API key" required hint="Sealed at rest and never shown again, here or anywhere.">
                  <Input type="password" value={apiKey} onChange={(_, d) => setApiKey(d.value)} autoComplete="off" />
                </Field>
              ) : (
                <Text block>
                  After you create it, you give consent at {connector?.displayName ?? 'the provider'} in a new tab.
                </Text>
              )}
              <ProblemMessage error={action.error} />
            </DialogContent>
            <DialogActions>
              <Button onClick={props.onClose}>Cancel</Button>
              <Button type="submit" appearance="primary" disabled={action.busy || !connectorId}>
                Create
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      )}
    </AppDialog>
  );
}

/**
 * The consent step: a link to the connection's consent page (a new tab, in
 * this signed-in browser), then "connected as ..." once the provider has sent
 * the browser back and flowshare recorded the grant.
 */
export function ConsentDialog(props: { connection: Connection; connectorName: string; onClose: () => void }) {
  return (
    <AppDialog onClose={props.onClose}>
      <ConsentStep {...props} />
    </AppDialog>
  );
}

function ConsentStep(props: { connection: Connection; connectorName: string; onClose: () => void }) {
  const [current, setCurrent] = useState<Connection>(props.connection);
  const [error, setError] = useState<unknown>();
  const [opened, setOpened] = useState(false);
  const connectionId = props.connection.id;

  // Consent finishes in the other tab; ask until the dialog closes.
  useEffect(() => {
    if (!opened) return;
    let stop = false;
    const poll = async () => {
      while (!stop) {
        try {
          const now = await ask(api.GET('/connections/{connectionId}', { params: { path: { connectionId } } }));
          if (stop) return;
          setCurrent(now);
          setError(undefined);
        } catch (caught) {
          if (!stop) setError(caught);
        }
        await new Promise((resolve) => setTimeout(resolve, CONSENT_POLL_MS));
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [opened, connectionId]);

  const before = props.connection;
  // Reauthorizing a connection that works keeps its grant until the new consent succeeds.
  const done =
    opened && current.status === 'Connected' && (before.status !== 'Connected' || current.account !== before.account);
  const failed = opened && current.status === 'Error' && current.statusReason !== before.statusReason;
  const waiting = opened && !done && !failed;
  return (
    <DialogBody>
      <DialogTitle>Consent for {props.connection.displayName}</DialogTitle>
      <DialogContent>
        {props.connection.consentUrl ? (
          <Text block>
            Give consent at {props.connectorName} in a new tab. Only you can, signed in as yourself in this browser; the
            link is no use to anyone else.{' '}
            <Link href={props.connection.consentUrl} target="_blank" rel="noopener" onClick={() => setOpened(true)}>
              Continue to {props.connectorName} (opens a new tab)
            </Link>
          </Text>
        ) : null}
        <div role="status" aria-live="polite">
          {done ? (
            <MessageBar intent="success">
              <MessageBarBody>
                {props.connection.displayName} is connected as {current.account}.
              </MessageBarBody>
            </MessageBar>
          ) : failed ? (
            <StatusBadge status={current.status} reason={current.statusReason} />
          ) : waiting ? (
            <Text block>Waiting for consent in the other tab…</Text>
          ) : null}
        </div>
        <ProblemMessage error={error} />
      </DialogContent>
      <DialogActions>
        <Button appearance={done ? 'primary' : 'secondary'} onClick={props.onClose}>
          {done ? 'Done' : 'Close'}
        </Button>
      </DialogActions>
    </DialogBody>
  );
}

export function DeleteConnectionDialog(props: {
  connection: Connection;
  usage: ConnectionUsage[];
  onClose: (deleted: boolean) => void;
}) {
  const embedded = props.usage.filter((u) => u.embedded);
  const [force, setForce] = useState(false);
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      await ask(
        api.DELETE('/connections/{connectionId}', {
          params: { path: { connectionId: props.connection.id }, query: force ? { force: 'true' } : {} },
        }),
      );
      props.onClose(true);
    });
  return (
    <AppDialog onClose={() => props.onClose(false)}>
      <DialogBody>
        <DialogTitle>Delete {props.connection.displayName}?</DialogTitle>
        <DialogContent>
          {props.usage.length === 0 ? (
            <Text block>No flow uses it.</Text>
          ) : (
            <>
              <Text block>These references are bound to it and will have no connection:</Text>
              <ul aria-label="Where it is used">
                {props.usage.map((u) => (
                  <li key={`${u.flowId}/${u.logicalName}`}>
                    {u.flowName}: {u.logicalName}
                    {u.embedded ? ' (embedded: co-owners run with it)' : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
          {embedded.length > 0 ? (
            <>
              <MessageBar intent="warning">
                <MessageBarBody>
                  It is embedded in {embedded.length} {embedded.length === 1 ? 'flow' : 'flows'}: deleting it stops
                  their co-owners' and cloud runs from using it.
                </MessageBarBody>
              </MessageBar>
              <Checkbox
                checked={force}
                onChange={(_, d) => setForce(d.checked === true)}
                label="Unembed it there, then delete it"
              />
            </>
          ) : null}
          <ProblemMessage error={action.error} />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => props.onClose(false)}>Cancel</Button>
          <Button appearance="primary" onClick={() => void remove()} disabled={action.busy}>
            Delete
          </Button>
        </DialogActions>
      </DialogBody>
    </AppDialog>
  );
}
