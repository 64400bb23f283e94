// The services of this process, over its storage and settings.
import { getConfig, type Config } from '../config';
import { Sealer } from '../crypto/sealer';
import { OAuthClient } from '../oauth/msal';
import { ConnectionStore } from '../storage/connections';
import { getStorage, type Storage } from '../storage/clients';
import { FlowStore } from '../storage/flows';
import { OAuthStateStore } from '../storage/oauthStates';
import { PendingWork } from '../storage/pendingWork';
import { PrincipalIndex } from '../storage/principalIndex';
import { SessionStore } from '../storage/sessions';
import { ConnectionService } from './connections';
import { ConsentService } from './consent';
import { FlowService } from './flows';
import { HealthService } from './health';
import { ChangeLanes } from './lanes';
import { PermissionService } from './permissions';
import { ReferenceService } from './references';
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
  /** What role changes left to unembed: finished after them, or by the sweep. */
  unembeddings: Unembeddings;
}

export type ServiceSettings = Pick<Config, 'connectors' | 'sealingKeys' | 'oauth' | 'signIn'> & {
  auth: Pick<Config['auth'], 'issuers'>;
};

export function createServices(storage: Storage, settings: ServiceSettings): Services {
  const store = new FlowStore(storage);
  const index = new PrincipalIndex(storage);
  const connectionStore = new ConnectionStore(storage);
  // One person's changes to one flow, shared by sharing and references.
  const lanes = new ChangeLanes();
  const unembeddings = new Unembeddings(store, new PendingWork(storage));
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
  return {
    health: new HealthService(storage),
    flows: new FlowService(store, index),
    permissions: new PermissionService(store, index, unembeddings, undefined, lanes),
    references: new ReferenceService(store, connectionStore, undefined, lanes),
    connections,
    consent,
    signIn,
    runs: new RunService(storage, store, connectionStore, connections),
    unembeddings,
  };
}

let shared: Services | undefined;

export function services(): Services {
  shared ??= createServices(getStorage(), getConfig());
  return shared;
}
