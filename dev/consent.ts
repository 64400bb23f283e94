// `npm run consent -- --user <who> --as <provider user> <consentUrl>`: gives
// consent on a connection's consent page the way a person at a browser does,
// for walk-throughs and scripts without one. It keeps cookies like a browser,
// signs in at the local issuer as `--user` (the connection's owner), presses
// the consent page's button, and consents at the local provider as `--as`.
// Development only: it works against the local stack, whose issuer asks no
// password.
import { parseArgs } from 'node:util';

const USAGE = 'npm run --silent consent -- --user <owner> --as <provider user> <consentUrl>';

/** A browser's cookies, by host (not port), and its address bar. */
class Jar {
  private readonly cookies = new Map<string, Map<string, string>>();

  header(url: URL): string | undefined {
    const jar = this.cookies.get(url.hostname);
    return jar && jar.size > 0 ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
  }

  keep(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair!.indexOf('=');
      const jar = this.cookies.get(url.hostname) ?? new Map<string, string>();
      this.cookies.set(url.hostname, jar);
      if (attributes.some((a) => /^max-age=0$/i.test(a))) jar.delete(pair!.slice(0, eq));
      else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
}

/** Follows redirects as a browser does; answers the last page and where it is. */
async function navigate(jar: Jar, start: string, init: { method?: string; form?: URLSearchParams } = {}) {
  let url = new URL(start);
  let method = init.method ?? 'GET';
  let body: URLSearchParams | undefined = init.form;
  for (let hops = 0; hops < 10; hops++) {
    const headers: Record<string, string> = {};
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (method === 'POST') headers.origin = url.origin;
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.keep(url, response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    return { url, status: response.status, text: await response.text() };
  }
  throw new Error('too many redirects');
}

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();
}

function hiddenFields(html: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields.set(
      name!,
      value!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))),
    );
  }
  return fields;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { user: { type: 'string' }, as: { type: 'string' } },
    allowPositionals: true,
  });
  const consentUrl = positionals[0];
  if (!values.user || !values.as || !consentUrl) throw new Error(`usage: ${USAGE}`);
  const jar = new Jar();
  // The consent page sends a person who is not signed in to sign in, then back.
  let page = await navigate(jar, consentUrl);
  if (page.text.includes('<h1>Sign in</h1>')) {
    const signIn = new URL(page.url);
    signIn.searchParams.set('login_hint', values.user);
    page = await navigate(jar, signIn.toString());
  }
  if (!page.text.includes('<form method="post"')) throw new Error(textOf(page.text));
  // Its button: on to the provider, whose own sign-in page asks who consents.
  const atProvider = await navigate(jar, page.url.toString(), { method: 'POST', form: hiddenFields(page.text) });
  const consent = new URL(atProvider.url);
  consent.searchParams.set('login_hint', values.as);
  const done = await navigate(jar, consent.toString());
  console.log(textOf(done.text.slice(done.text.indexOf('<body>'))));
  if (done.status !== 200) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
