// Registering a machine, rotating its key and deleting it. A machine key is
// shown once, in the dialog that received it, with a way to copy it; the
// dialog is its only holder, so it is gone from the page when the dialog
// closes, and no answer of the API ever carries it again.
import {
  Button,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Text,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api, ask, type Machine, type MachineWithKey } from '../api/client';
import { useAction } from '../useAsync';
import { AppDialog } from './AppDialog';
import { ProblemMessage } from './ProblemMessage';

export function RegisterMachineDialog(props: { onClose: (registered: boolean) => void }) {
  const [name, setName] = useState('');
  const [registered, setRegistered] = useState<MachineWithKey | undefined>();
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      setRegistered(await ask(api.POST('/machines', { body: { name } })));
    });
  };

  return (
    <AppDialog onClose={() => props.onClose(registered !== undefined)}>
      {registered ? (
        <KeyStep title={`${registered.name} is registered`} machine={registered} onDone={() => props.onClose(true)} />
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <DialogBody>
            <DialogTitle>Register a machine</DialogTitle>
            <DialogContent>
              <Text block>
                A machine runs your cloud runs: a computer with flowshare&apos;s agent, which proves itself with the key
                you get next.
              </Text>
              <Field label="Name" required>
                <Input value={name} onChange={(_, d) => setName(d.value)} />
              </Field>
              <ProblemMessage error={action.error} />
            </DialogContent>
            <DialogActions>
              <Button onClick={() => props.onClose(false)}>Cancel</Button>
              <Button type="submit" appearance="primary" disabled={action.busy || !name.trim()}>
                Register
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      )}
    </AppDialog>
  );
}

export function RotateKeyDialog(props: { machine: Machine; onClose: () => void }) {
  const [rotated, setRotated] = useState<MachineWithKey | undefined>();
  const action = useAction();
  const { machine } = props;

  const rotate = () =>
    action.run(async () => {
      setRotated(await ask(api.POST('/machines/{machineId}/key', { params: { path: { machineId: machine.id } } })));
    });

  return (
    <AppDialog onClose={props.onClose}>
      {rotated ? (
        <KeyStep title={`A new key for ${rotated.name}`} machine={rotated} onDone={props.onClose} />
      ) : (
        <DialogBody>
          <DialogTitle>Rotate the key of {machine.name}?</DialogTitle>
          <DialogContent>
            <Text block>
              {machine.name} gets a new key, shown once. Its old key stops working at once: the machine cannot lease
              runs until it is given the new one.
            </Text>
            <ProblemMessage error={action.error} />
          </DialogContent>
          <DialogActions>
            <Button onClick={props.onClose}>Cancel</Button>
            <Button appearance="primary" onClick={() => void rotate()} disabled={action.busy}>
              Rotate key
            </Button>
          </DialogActions>
        </DialogBody>
      )}
    </AppDialog>
  );
}

export function DeleteMachineDialog(props: { machine: Machine; onClose: (deleted: boolean) => void }) {
  const action = useAction();
  const { machine } = props;
  const remove = () =>
    action.run(async () => {
      await ask(api.DELETE('/machines/{machineId}', { params: { path: { machineId: machine.id } } }));
      props.onClose(true);
    });
  return (
    <AppDialog onClose={() => props.onClose(false)}>
      <DialogBody>
        <DialogTitle>Delete {machine.name}?</DialogTitle>
        <DialogContent>
          <Text block>
            Its key stops working at once. Cloud runs waiting for it are never run: they end timed out, or rejected if
            not yet dispatched.
          </Text>
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

/** The key, this once, with a way to copy it. */
function KeyStep(props: { title: string; machine: MachineWithKey; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.machine.key);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <DialogBody>
      <DialogTitle>{props.title}</DialogTitle>
      <DialogContent>
        <MessageBar intent="warning" layout="multiline">
          <MessageBarBody>
            Copy this key now and give it to the machine&apos;s agent: it is shown this once. flowshare keeps only a
            hash of it; if it is lost, rotate the key.
          </MessageBarBody>
        </MessageBar>
        <Field label="Machine key">
          {/* The one thing to do here is copy it: focused and selected, it is one keystroke away. */}
          <Input
            readOnly
            autoFocus
            value={props.machine.key}
            className="machine-key"
            onFocus={(e) => e.currentTarget.select()}
          />
        </Field>
        <div role="status" aria-live="polite">
          {copied === 'yes' ? <Text>Copied to the clipboard.</Text> : null}
          {copied === 'failed' ? <Text>The browser did not let the page copy it: select it and copy it.</Text> : null}
        </div>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => void copy()}>Copy key</Button>
        <Button appearance="primary" onClick={props.onDone}>
          Done
        </Button>
      </DialogActions>
    </DialogBody>
  );
}
