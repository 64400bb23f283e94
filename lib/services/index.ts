// The services of this process, over its storage and settings.
import { getConfig, DEFAULT_RUN_LEASE_SECONDS, type Config } from '../config';
import { RunTokens } from '../auth/runTokens';
import { Sealer } from '../crypto/sealer';
import { OAuthClient } from '../oauth/msal';
import { ConnectionStore } from '../storage/connections';
import { getStorage, type Storage } from '../storage/clients';
import { FlowStore } from '../storage/flows';
import { MachineStore } from '../storage/machines';
import { OAuthStateStore } from '../storage/oauthStates';
import { PendingWork } from '../storage/pendingWork';
import { RunQueues } from '../storage/runQueues';
import { ConnectorEgress } from '../gateway/egress';
import { PrincipalIndex } from '../storage/principalIndex';
import { SessionStore } from '../storage/sessions';
import { ConnectionService } from './connections';
import { ConsentService } from './consent';
import { FlowService } from './flows';
import { HealthService } from './health';
import { ChangeLanes } from './lanes';
import { PermissionService } from './permissions';
import { ReferenceService } from './references';
import { AccessTokens } from './accessTokens';
import { CloudRunChecks } from './cloudRunChecks';
import { CloudRunProcessor } from './cloudRunProcessor';
import { CredentialSealer } from './credentials';
import { DesignCalls } from './designCalls';
import { RunCalls } from './runCalls';
import { DispatchSignals } from './dispatchSignals';
import { MachineService } from './machines';
import { RunLeases } from './runLeases';
import { ExpiredStates } from './expiredStates';
import { ConnectorGateway } from './gateway';
import { RunRecords } from './runRecords';
import { RunRepairs } from './runRepairs';
import { RunService } from './runs';
import { SignInService } from './signIn';
import { Unembeddings } from './unembeddings';

export interface Services {
  health: HealthService;
  flows: FlowService;
  permissions: PermissionService;
  references: ReferenceService;
  connections: ConnectionService;
  consent: ConsentService;
  signIn: SignInService;
  runs: RunService;
  /** Machines: registered, listed, keys rotated, deleted. */
  machines: MachineService;
  /** Runs as their executors see them: leases, heartbeats, completion. */
  runLeases: RunLeases;
  /** Run tokens: issued with a lease, opened (no storage) by every call made with one. */
  runTokens: RunTokens;
  /** The queue-triggered authority on cloud runs. */
  cloudRuns: CloudRunProcessor;
  /** Runs storage left behind, repaired on a timer. */
  runRepairs: RunRepairs;
  /** What role changes left to unembed: finished after them, or by the sweep. */
  unembeddings: Unembeddings;
  /** Consent states and sessions past their time, deleted on a timer. */
  expiredStates: ExpiredStates;
  /** Connector calls through a connection nobody outside flowshare sees. */
  gateway: ConnectorGateway;
  /** A maker trying a read through a reference while editing. */
  designCalls: DesignCalls;
  /** A run's connector calls, made with its token. */
  runCalls: RunCalls;
}

export type ServiceSettings = Pick<
  Config,
  'connectors' | 'sealingKeys' | 'oauth' | 'signIn' | 'cloudRuns' | 'gateway'
> & {
  auth: Pick<Config['auth'], 'issuers'>;
  /** RUN_LEASE_SECONDS; 60 when not given. */
  runs?: Config['runs'];
};

/** The parts runs are made of: request-time use cases, the processor, leases and the repair sweep share them. */
export interface RunParts {
  store: FlowStore;
  connectionStore: ConnectionStore;
  connections: ConnectionService;
  machineStore: MachineStore;
  queues: RunQueues;
  notes: PendingWork;
  tokens: RunTokens;
  maxDequeueCount: number;
  leaseSeconds?: number;
  now?: () => Date;
}

export function createRunServices(
  parts: RunParts,
): Pick<Services, 'runs' | 'cloudRuns' | 'runRepairs' | 'runLeases' | 'runTokens'> {
  const now = parts.now ?? (() => new Date());
  const checks = new CloudRunChecks(parts.store, parts.connections);
  const records = new RunRecords(parts.store, parts.notes, now);
  // One per process: the processor wakes the leases waiting here.
  const signals = new DispatchSignals();
  const leaseMs = (parts.leaseSeconds ?? DEFAULT_RUN_LEASE_SECONDS) * 1000;
  return {
    runs: new RunService(
      parts.store,
      parts.connectionStore,
      parts.machineStore,
      checks,
      records,
      parts.queues,
      parts.tokens,
      { leaseMs },
      now,
    ),
    cloudRuns: new CloudRunProcessor(
      parts.store,
      checks,
      records,
      parts.machineStore,
      signals,
      { maxDequeueCount: parts.maxDequeueCount },
      now,
    ),
    runLeases: new RunLeases(parts.store, parts.machineStore, records, parts.tokens, signals, { leaseMs }, now),
    runRepairs: new RunRepairs(parts.store, records, parts.queues, parts.notes, now),
    runTokens: parts.tokens,
  };
}

export function createServices(storage: Storage, settings: ServiceSettings): Services {
  const store = new FlowStore(storage);
  const index = new PrincipalIndex(storage);
  const connectionStore = new ConnectionStore(storage);
  // One person's changes to one flow, shared by sharing and references.
  const lanes = new ChangeLanes();
  const unembeddings = new Unembeddings(store, new PendingWork(storage, 'unembed'));
  const sealer = new Sealer(settings.sealingKeys);
  const oauth = new OAuthClient();
  const sessions = new SessionStore(storage);
  const connections = new ConnectionService(connectionStore, store, settings.connectors, sealer, oauth, settings.oauth);
  const consent = new ConsentService(
    connectionStore,
    new OAuthStateStore(storage),
    sessions,
    settings.connectors,
    sealer,
    oauth,
    settings.oauth,
  );
  const signIn = new SignInService(sessions, sealer, oauth, {
    ...settings.signIn,
    issuers: settings.auth.issuers,
  });
  const credentials = new CredentialSealer(sealer);
  const gateway = new ConnectorGateway(
    connectionStore,
    settings.connectors,
    credentials,
    new AccessTokens(connectionStore, oauth, credentials),
    new ConnectorEgress({ allowedLoopbackOrigins: settings.gateway.allowedLoopbackOrigins }),
  );
  const machineStore = new MachineStore(storage);
  const runs = createRunServices({
    store,
    connectionStore,
    connections,
    machineStore,
    queues: new RunQueues(storage),
    notes: new PendingWork(storage, 'runs'),
    tokens: new RunTokens(sealer),
    maxDequeueCount: settings.cloudRuns.maxDequeueCount,
    leaseSeconds: settings.runs?.leaseSeconds,
  });
  return {
    health: new HealthService(storage),
    flows: new FlowService(store, index),
    permissions: new PermissionService(store, index, unembeddings, undefined, lanes),
    references: new ReferenceService(store, connectionStore, undefined, lanes),
    connections,
    consent,
    signIn,
    machines: new MachineService(machineStore),
    ...runs,
    unembeddings,
    expiredStates: new ExpiredStates(new OAuthStateStore(storage), sessions),
    gateway,
    designCalls: new DesignCalls(store, gateway),
    runCalls: new RunCalls(store, connectionStore, runs.runTokens, runs.runLeases, gateway),
  };
}

let shared: Services | undefined;

export function services(): Services {
  shared ??= createServices(getStorage(), getConfig());
  return shared;
}
