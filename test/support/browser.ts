// A person's browser, as far as sign-in and consent need one: a real HTTP
// client that keeps cookies (by host, as browsers do: not by port), follows
// redirects itself, submits the forms of the pages it gets, and sends the
// Origin and Fetch metadata a browser would. Every response it receives is
// kept, so tests can prove no token ever reached it, and recorded for the
// suite-wide secret scan (test/support/secrets.ts).
import { expect } from 'vitest';
import { recordReceived, recordSecretsIn } from './secrets';
import { stack, testName } from './stack';

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  text: string;
}

interface StoredCookie {
  value: string;
  httpOnly: boolean;
}

export class Browser {
  private readonly cookies = new Map<string, Map<string, StoredCookie>>();
  /** Everything this browser received: headers and bodies. */
  readonly received: string[] = [];
  /** The `code` and `state` values that passed through this browser's address bar. */
  readonly callbackSecrets: string[] = [];

  /** One request, no redirect followed. `from` is the page it is made from (for Origin). */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; from?: string } = {},
  ): Promise<Page> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const jar = this.cookies.get(target.hostname);
    if (jar && jar.size > 0) headers.cookie = [...jar].map(([name, c]) => `${name}=${c.value}`).join('; ');
    const method = init.method ?? 'GET';
    if (init.from) {
      const from = new URL(init.from);
      headers['sec-fetch-site'] ??= from.origin === target.origin ? 'same-origin' : 'cross-site';
      if (method !== 'GET') headers.origin ??= from.origin;
    } else {
      headers['sec-fetch-site'] ??= 'none';
    }
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    for (const name of ['code', 'state']) {
      const value = target.searchParams.get(name);
      if (value) this.callbackSecrets.push(value);
    }
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.store(target.hostname, line);
    const text = await response.text();
    this.keep(`${method} ${url}`, response, text);
    return { status: response.status, url, headers: response.headers, text };
  }

  /** Follows redirects as a browser does (a POST answered 302 or 303 goes on as a GET). */
  async navigate(
    url: string,
    init: { method?: string; form?: Record<string, string>; from?: string } = {},
  ): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; [301, 302, 303, 307].includes(page.status); hops++) {
      if (hops > 10) throw new Error('too many redirects');
      const next = new URL(page.headers.get('location')!, page.url).toString();
      page = await this.request(next, { from: page.url });
    }
    return page;
  }

  /** Submits the page's one form (its hidden fields, plus `extra`). */
  submit(page: Page, extra: Record<string, string> = {}): Promise<Page> {
    const action = /<form method="(get|post)" action="([^"]*)"/.exec(page.text);
    if (!action) throw new Error(`the page has no form: ${page.text}`);
    const fields: Record<string, string> = {};
    for (const [, name, value] of page.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
      fields[unescapeHtml(name!)] = unescapeHtml(value!);
    }
    const target = new URL(unescapeHtml(action[2]!), page.url);
    if (action[1] === 'get') {
      for (const [name, value] of Object.entries({ ...fields, ...extra })) target.searchParams.set(name, value);
      return this.navigate(target.toString(), { from: page.url });
    }
    return this.navigate(target.toString(), { method: 'POST', form: { ...fields, ...extra }, from: page.url });
  }

  /** Signs in to flowshare at the local issuer as `user` (typing the name into its sign-in page). */
  async signIn(user: string, returnTo?: string): Promise<Page> {
    const start = `${apiUrl()}/auth/signin${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`;
    const form = await this.navigate(start);
    expect(form.text, 'the issuer asks who signs in').toContain('<h1>Sign in</h1>');
    return this.submit(form, { login_hint: user });
  }

  /**
   * Gives consent on a connection's consent page, as whoever is signed in
   * here, connecting the provider account `providerUser`. Answers the page
   * the browser ends on.
   */
  async consent(consentUrl: string, providerUser: string): Promise<Page> {
    const page = await this.navigate(consentUrl);
    if (!page.text.includes('<form method="post"')) return page;
    const atProvider = await this.submit(page);
    // The provider's own sign-in page: who gives consent there.
    return this.submit(atProvider, { login_hint: providerUser });
  }

  /** The session's CSRF token, as a page script would read it. */
  async csrfToken(): Promise<string> {
    const session = await this.request(`${apiUrl()}/auth/session`, { from: `${new URL(apiUrl()).origin}/` });
    expect(session.status).toBe(200);
    return (JSON.parse(session.text) as { csrfToken: string }).csrfToken;
  }

  /** A call of the API with this browser's cookies, as its own pages would make it. */
  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Page> {
    const origin = new URL(apiUrl()).origin;
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    const url = `${apiUrl()}${path}`;
    const target = new URL(url);
    const jar = this.cookies.get(target.hostname);
    if (jar && jar.size > 0) all.cookie = [...jar].map(([name, c]) => `${name}=${c.value}`).join('; ');
    all['sec-fetch-site'] ??= 'same-origin';
    if (method !== 'GET') all.origin ??= origin;
    recordSecretsIn(body);
    const response = await fetch(url, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) this.store(target.hostname, line);
    const text = await response.text();
    this.keep(`${method} ${url}`, response, text);
    return { status: response.status, url, headers: response.headers, text };
  }

  /** Whether a cookie of that name is held for the host, and whether page script could read it. */
  cookie(host: string, name: string): StoredCookie | undefined {
    return this.cookies.get(host)?.get(name);
  }

  private keep(request: string, response: Response, text: string): void {
    this.received.push(JSON.stringify([...response.headers]), text);
    recordReceived(`${testName()}: ${request} ${response.status} (browser)`, response.headers, text);
  }

  private store(host: string, line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const jar = this.cookies.get(host) ?? new Map<string, StoredCookie>();
    this.cookies.set(host, jar);
    const maxAge = attributes.find((a) => /^max-age=/i.test(a));
    if (maxAge && Number(maxAge.split('=')[1]) <= 0) {
      jar.delete(name);
      return;
    }
    jar.set(name, { value, httpOnly: attributes.some((a) => /^httponly$/i.test(a)) });
  }
}

function apiUrl(): string {
  return stack().apiUrl;
}

function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** A browser in which `user` is signed in to flowshare. */
export async function signedIn(user: string): Promise<Browser> {
  const browser = new Browser();
  const page = await browser.signIn(user);
  expect(page.status, page.text).toBe(200);
  return browser;
}
