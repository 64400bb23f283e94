// The local Office 365 Outlook provider: a mailbox per provider user, reached
// with access tokens the local issuer minted for the connector's client.
// Paths follow Microsoft Graph's (below /office365/v1.0).
import { randomUUID } from 'node:crypto';
import type { BearerCheck } from './bearer';
import { error, objectBody, type Identity, type ProviderAnswer, type ReceivedRequest } from './http';

export interface Message {
  id: string;
  /** The provider user whose token sent it. */
  from: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
}

export interface Handled {
  operation: string;
  identity: Identity;
  answer: ProviderAnswer;
}

const ROUTES: Record<string, { operation: string; scope?: string }> = {
  'POST /me/sendMail': { operation: 'SendEmail', scope: 'Mail.Send' },
  'GET /me/messages': { operation: 'ListEmails', scope: 'Mail.Read' },
  'GET /me': { operation: 'GetMyProfile' },
};

export class Office365Provider {
  /** Each user's inbox, oldest first. */
  private readonly mailboxes = new Map<string, Message[]>();

  constructor(
    private readonly bearer: BearerCheck,
    private readonly clientId: string,
  ) {}

  inbox(user: string): Message[] {
    return this.mailboxes.get(user) ?? [];
  }

  async handle(req: ReceivedRequest): Promise<Handled> {
    const route = ROUTES[`${req.method} ${req.path.replace(/\/$/, '')}`];
    if (!route) {
      return {
        operation: '(none)',
        identity: { kind: 'none', reason: 'no such operation' },
        answer: error(404, 'ResourceNotFound', 'No such resource.'),
      };
    }
    const checked = await this.bearer.check(req.headers.authorization, this.clientId, route.scope);
    if (!checked.ok) return { operation: route.operation, identity: checked.identity, answer: checked.answer };
    const user = checked.identity.user;
    return { operation: route.operation, identity: checked.identity, answer: this.operate(route.operation, user, req) };
  }

  private operate(operation: string, user: string, req: ReceivedRequest): ProviderAnswer {
    if (operation === 'GetMyProfile') {
      return { status: 200, body: { id: user, displayName: user, mail: user, userPrincipalName: user } };
    }
    if (operation === 'ListEmails') {
      const top = req.query.get('top');
      const count = top === null ? 50 : Number(top);
      if (!Number.isInteger(count) || count < 1 || count > 1000) {
        return error(400, 'ErrorInvalidRequest', 'top must be an integer from 1 to 1000.');
      }
      return { status: 200, body: { value: [...this.inbox(user)].reverse().slice(0, count) } };
    }
    const body = objectBody(req.body);
    const fields = ['to', 'subject', 'body'] as const;
    if (!body || fields.some((f) => typeof body[f] !== 'string') || !(body.to as string)) {
      return error(400, 'ErrorInvalidRequest', 'The body must be {to, subject, body}, all strings, to not empty.');
    }
    const message: Message = {
      id: randomUUID(),
      from: user,
      to: body.to as string,
      subject: body.subject as string,
      body: body.body as string,
      sentAt: new Date().toISOString(),
    };
    this.mailboxes.set(message.to, [...this.inbox(message.to), message]);
    // Graph answers sendMail with 202 and no body.
    return { status: 202 };
  }
}
