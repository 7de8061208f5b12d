/**
 * A person at the pages without a browser: keeps the session cookie, reads the CSRF token from
 * the last page, posts forms. Redirects are not followed, so a test sees each 303 and where it goes.
 */
export class PageClient {
  private cookie = '';
  private csrf = '';

  constructor(private readonly base: string) {}

  /** The CSRF token of the last page read (tests that forge a bad one start from it). */
  get csrfToken(): string {
    return this.csrf;
  }

  private remember(res: Response): void {
    const set = res.headers.getSetCookie().find((c) => c.startsWith('simcast.sid='));
    if (set) this.cookie = set.split(';')[0]!;
  }

  async get(path: string): Promise<{ status: number; location: string | null; html: string }> {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookie, accept: 'text/html' }, redirect: 'manual' });
    this.remember(res);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html);
    if (token) this.csrf = token[1]!;
    return { status: res.status, location: res.headers.get('location'), html };
  }

  async post(path: string, form: Record<string, string> = {}): Promise<{ status: number; location: string | null; html: string }> {
    if (!this.csrf) await this.get('/login');
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: this.csrf, ...form }).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html);
    if (token) this.csrf = token[1]!;
    return { status: res.status, location: res.headers.get('location'), html };
  }

  /** Logs in; the session is new afterwards, so the next form gets its CSRF token from a fresh page. */
  async login(login: string, password: string): Promise<number> {
    await this.get('/login');
    const res = await this.post('/login', { login, password, next: '/campaigns' });
    if (res.status === 303) await this.get('/campaigns');
    return res.status;
  }
}
