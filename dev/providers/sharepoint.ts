// The local SharePoint provider: lists of items kept per provider user,
// reached with access tokens the local issuer minted for the connector's
// client, with Sites.ReadWrite.All. A file's content is answered with a
// redirect to a download address on another origin, as SharePoint and
// OneDrive do, so the gateway's refusal to follow it can be seen.
import { randomUUID } from 'node:crypto';
import type { BearerCheck } from './bearer';
import { error, objectBody, type ProviderAnswer, type ReceivedRequest } from './http';
import type { Handled } from './office365';

export interface ListItem {
  id: string;
  title: string;
  fields: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

const SCOPE = 'Sites.ReadWrite.All';

export class SharePointProvider {
  /** `user` -> list name -> items, oldest first. */
  private readonly lists = new Map<string, Map<string, ListItem[]>>();

  constructor(
    private readonly bearer: BearerCheck,
    private readonly clientId: string,
    /** Where a file's content is downloaded from: another origin than the API's. */
    private readonly downloadUrl: (file: string) => string,
  ) {}

  async handle(req: ReceivedRequest): Promise<Handled> {
    const items = /^\/lists\/([^/]+)\/items$/.exec(req.path);
    const content = /^\/lists\/([^/]+)\/files\/([^/]+)\/content$/.exec(req.path);
    const operation =
      items && req.method === 'GET'
        ? 'GetItems'
        : items && req.method === 'POST'
          ? 'CreateItem'
          : content && req.method === 'GET'
            ? 'GetFileContent'
            : undefined;
    if (!operation) {
      return {
        operation: '(none)',
        identity: { kind: 'none', reason: 'no such operation' },
        answer: error(404, 'itemNotFound', 'No such resource.'),
      };
    }
    const checked = await this.bearer.check(req.headers.authorization, this.clientId, SCOPE);
    if (!checked.ok) return { operation, identity: checked.identity, answer: checked.answer };
    const user = checked.identity.user;
    const list = decodeURIComponent((items ?? content)![1]!);
    let answer: ProviderAnswer;
    if (operation === 'GetFileContent') {
      answer = { status: 302, headers: { Location: this.downloadUrl(decodeURIComponent(content![2]!)) } };
    } else if (operation === 'GetItems') {
      const found = this.lists.get(user)?.get(list);
      answer = found
        ? { status: 200, body: { value: found } }
        : error(404, 'itemNotFound', `The list ${list} does not exist.`);
    } else {
      answer = this.create(user, list, req.body);
    }
    return { operation, identity: checked.identity, answer };
  }

  /** Adds an item, making the list on its first item. */
  private create(user: string, list: string, body: unknown): ProviderAnswer {
    const given = objectBody(body);
    const fields = given?.fields ?? {};
    if (!given || typeof given.title !== 'string' || !objectBody(fields)) {
      return error(400, 'invalidRequest', 'The body must be {title, fields?}: a string and an object.');
    }
    const item: ListItem = {
      id: randomUUID(),
      title: given.title,
      fields: fields as Record<string, unknown>,
      createdBy: user,
      createdAt: new Date().toISOString(),
    };
    const lists = this.lists.get(user) ?? new Map<string, ListItem[]>();
    this.lists.set(user, lists);
    lists.set(list, [...(lists.get(list) ?? []), item]);
    return { status: 201, body: item };
  }
}
