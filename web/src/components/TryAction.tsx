// "Try an action" through a connection reference: the runtime's design-time
// call (docs/gateway.md). A maker picks one of the connector's read
// operations, fills its parameters in a form made from their schema, and
// sees the provider's answer. Owners and co-owners get it on a reference
// they own or that is embedded; on another's, not embedded, they see why
// not; users never see it (the API refuses them too).
import {
  Badge,
  Button,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogTitle,
  Field,
  Select,
  Text,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { can } from '../../../lib/domain/roles';
import { api, ask, type ConnectionReference, type Connector, type ConnectorCallAnswer, type Role } from '../api/client';
import { useAction } from '../useAsync';
import { AppDialog } from './AppDialog';
import { parametersOf, type RawValues } from '../parameters';
import { ParameterFields } from './ParameterFields';
import { ProblemMessage } from './ProblemMessage';

/** Why the caller cannot try an action through the reference, or undefined when they can. */
export function whyNotTry(
  reference: ConnectionReference,
  connector: Connector | undefined,
  mine: boolean,
): string | undefined {
  if (!mine && !reference.embedded) {
    return `Only ${reference.ownerId}, the reference owner, can try actions through it until they embed it.`;
  }
  if (connector && !connector.operations.some((o) => o.read)) {
    return `${connector.displayName} has no read operations to try: only reads can be tried.`;
  }
  return undefined;
}

export function TryActionButton(props: {
  flowId: string;
  role: Role;
  reference: ConnectionReference;
  connector: Connector | undefined;
  mine: boolean;
}) {
  const [open, setOpen] = useState(false);
  const { reference } = props;
  if (!can(props.role, 'callConnectorAtDesignTime')) return null;
  const why = whyNotTry(reference, props.connector, props.mine);
  const whyId = `try-why-${reference.logicalName}`;
  return (
    <>
      <Button
        size="small"
        disabledFocusable={why !== undefined || !props.connector}
        aria-describedby={why ? whyId : undefined}
        aria-label={`Try an action through ${reference.logicalName}`}
        onClick={() => setOpen(true)}
      >
        Try an action
      </Button>
      {why ? (
        <Text size={200} id={whyId} block>
          {why}
        </Text>
      ) : null}
      {open && props.connector ? (
        <TryActionDialog
          flowId={props.flowId}
          reference={reference}
          connector={props.connector}
          mine={props.mine}
          onClose={() => setOpen(false)}
        />
      ) : null}
    </>
  );
}

function TryActionDialog(props: {
  flowId: string;
  reference: ConnectionReference;
  connector: Connector;
  mine: boolean;
  onClose: () => void;
}) {
  const { reference, connector } = props;
  const reads = connector.operations.filter((o) => o.read);
  const [operationId, setOperationId] = useState(reads[0]?.id ?? '');
  const [values, setValues] = useState<RawValues>({});
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [answer, setAnswer] = useState<ConnectorCallAnswer | undefined>();
  const action = useAction();
  const operation = reads.find((o) => o.id === operationId);
  const through = props.mine
    ? `your connection${reference.connection ? `, ${reference.connection.displayName}` : ''}`
    : `${reference.ownerId}'s connection, embedded in this flow`;

  const choose = (id: string) => {
    setOperationId(id);
    setValues({});
    setFieldErrors({});
    setAnswer(undefined);
    action.clear();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!operation) return;
    const made = parametersOf(operation.parameters, values);
    if ('errors' in made) {
      setFieldErrors(made.errors);
      return;
    }
    setFieldErrors({});
    setAnswer(undefined);
    await action.run(async () => {
      setAnswer(
        await ask(
          api.POST('/flows/{flowId}/connection-references/{logicalName}/calls', {
            params: { path: { flowId: props.flowId, logicalName: reference.logicalName } },
            body: { operationId: operation.id, parameters: made.parameters },
          }),
        ),
      );
    });
  };

  return (
    <AppDialog onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <DialogBody>
          <DialogTitle>Try an action through {reference.logicalName}</DialogTitle>
          <DialogContent className="try-action">
            <Text block>
              A read at {connector.displayName}, through {through}. It runs once, now; nothing is changed.
            </Text>
            <Field label="Operation" required>
              <Select value={operationId} onChange={(_, d) => choose(d.value)}>
                {reads.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.displayName ? `${o.displayName} (${o.id})` : o.id}
                  </option>
                ))}
              </Select>
            </Field>
            {operation && operation.parameters.length === 0 ? <Text block>It takes no parameters.</Text> : null}
            {operation ? (
              <ParameterFields
                parameters={operation.parameters}
                values={values}
                errors={fieldErrors}
                onChange={(name, value) => setValues((now) => ({ ...now, [name]: value }))}
              />
            ) : null}
            <ProblemMessage error={action.error} />
            <AnswerView answer={answer} />
          </DialogContent>
          <DialogActions>
            <Button onClick={props.onClose}>Close</Button>
            <Button type="submit" appearance="primary" disabledFocusable={action.busy || !operation}>
              Run
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </AppDialog>
  );
}

/** The provider's answer as it came: its status and content type (announced), and its body. */
function AnswerView({ answer }: { answer: ConnectorCallAnswer | undefined }) {
  const ok = answer !== undefined && answer.status >= 200 && answer.status < 300;
  const body =
    answer === undefined
      ? ''
      : answer.body === undefined || answer.body === null || answer.body === ''
        ? '(no body)'
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body, null, 2);
  return (
    <>
      <div role="status" aria-live="polite">
        {answer ? (
          <Text block>
            The provider answered{' '}
            <Badge appearance="tint" color={ok ? 'success' : 'danger'} data-testid="provider-status">
              {answer.status}
            </Badge>
            {answer.contentType ? ` (${answer.contentType})` : ''}
            {answer.bodyEncoding === 'base64' ? ', its body in base64' : ''}
          </Text>
        ) : null}
      </div>
      {answer ? (
        <pre className="definition provider-answer" tabIndex={0} aria-label="The provider's answer">
          {body}
        </pre>
      ) : null}
    </>
  );
}
