// The actions of flowshare's Power Automate connector (connector/): which
// registered route each calls, and the words a maker reads in the designer.
// Methods, paths, parameters, their types and every shape come from the
// route's own registration (lib/http/routes.ts) and schemas; this table adds
// only what Power Automate shows and how it fills parameters (x-ms-*). Only
// person-facing routes: never a machine's or a run token's.

/** How a dropdown is filled: an action whose answer lists `{value: [...]}`, each item's id and name. */
export interface DynamicValues {
  operationId: string;
  /** Fixed arguments of that action, by parameter name. */
  parameters: Record<string, string | number | boolean>;
}

export interface ParameterDoc {
  /** Its title in the designer (x-ms-summary). */
  summary: string;
  description: string;
  /** `advanced`: under "Show all"; `internal`: never shown, always sent as `value`. */
  visibility?: 'advanced' | 'internal';
  /** What an internal parameter always sends. */
  value?: string;
  /** A dropdown of values from another action (x-ms-dynamic-values). */
  dynamicValues?: DynamicValues;
}

export interface ConnectorAction {
  /** The connector's operationId. */
  operationId: string;
  /** The name the route is registered with (httpRoute). */
  route: string;
  summary: string;
  description: string;
  /** Every path and query parameter the route takes, by name. */
  parameters: Record<string, ParameterDoc>;
  /** The route's JSON body: the body parameter itself, and each of its members. */
  body?: ParameterDoc & { members: Record<string, ParameterDoc> };
  /**
   * An action that answers 202 and is then polled (Power Automate's
   * asynchronous pattern): the route its Location points at, whose final
   * answer is the action's outputs.
   */
  pollsRoute?: string;
}

/** Flows the caller may start cloud runs of, as a dropdown. */
const MY_CLOUD_FLOWS: DynamicValues = { operationId: 'ListMyFlows', parameters: { cloudStartable: true, top: 100 } };
const MY_MACHINES: DynamicValues = { operationId: 'ListMyMachines', parameters: { top: 100 } };

const flowId = (what: string): ParameterDoc => ({
  summary: 'Flow',
  description: `${what} Pick one of the flows you own or co-own, or enter its id.`,
  dynamicValues: MY_CLOUD_FLOWS,
});

const paging = {
  top: {
    summary: 'Page Size',
    description: 'How many to answer at most, 1 to 100 (50 when left empty).',
    visibility: 'advanced',
  },
  continuationToken: {
    summary: 'Continuation Token',
    description: 'Where the previous page ended: the token in its Next Link. Leave empty for the first page.',
    visibility: 'advanced',
  },
} as const satisfies Record<string, ParameterDoc>;

export const CONNECTOR_ACTIONS: ConnectorAction[] = [
  {
    operationId: 'RunDesktopFlow',
    route: 'requestCloudRun',
    pollsRoute: 'getRunOutcome',
    summary: 'Run a shared desktop flow',
    description:
      'Runs a desktop flow you own or co-own on one of your machines, with the connections its reference owners embedded, and waits until the run ends. The outputs are the run: its status, outputs and action results. A run that is rejected (the flow is schema v1, a reference is not embedded, a connection is unusable), fails, times out or is cancelled fails this action, which says why.',
    parameters: {
      flowId: flowId('The desktop flow to run.'),
      poll: {
        summary: 'Wait For',
        description: 'Asks flowshare to answer with the run outcome route, which fails unless the run succeeds.',
        visibility: 'internal',
        value: 'outcome',
      },
    },
    body: {
      summary: 'Run Request',
      description: 'The machine to run on and the inputs to give the flow.',
      members: {
        machineId: {
          summary: 'Machine',
          description: 'Where the flow runs: one of the machines you registered.',
          dynamicValues: MY_MACHINES,
        },
        inputs: {
          summary: 'Inputs',
          description: "The flow's inputs, as a JSON object (up to 64 KiB), handed to the machine with the run.",
        },
      },
    },
  },
  {
    operationId: 'GetRun',
    route: 'getRun',
    summary: 'Get a run',
    description:
      "Reads a run as it is now, ended or not: its status, and once it ended its outputs, action results and errors. Its outputs are shown to the run's initiator and the flow's owner and co-owners.",
    parameters: {
      runId: {
        summary: 'Run ID',
        description: "The run's id, as Run a shared desktop flow answers it.",
      },
      poll: {
        summary: 'Answer',
        description: 'Asks flowshare for the run as it is now, without waiting for it to end.',
        visibility: 'internal',
        value: 'none',
      },
    },
  },
  {
    operationId: 'CheckCloudReadiness',
    route: 'cloudReadiness',
    summary: 'Check whether a flow can start from the cloud',
    description:
      'Runs the checks a cloud run must pass, now, and lists every problem at once: the flow must be schema v2 and every connection reference embedded with a usable connection.',
    parameters: { flowId: flowId('The desktop flow to check.') },
  },
  {
    operationId: 'ListMyFlows',
    route: 'listFlows',
    summary: 'List my flows',
    description: 'Lists the desktop flows you own or that are shared with you, each with your role on it.',
    parameters: {
      ...paging,
      cloudStartable: {
        summary: 'Only Flows I Can Run From The Cloud',
        description: 'Yes: only the flows you own or co-own, which you may start cloud runs of.',
      },
    },
  },
  {
    operationId: 'ListMyMachines',
    route: 'listMachines',
    summary: 'List my machines',
    description: 'Lists the machines you registered, oldest first: where your cloud runs can run.',
    parameters: paging,
  },
];
