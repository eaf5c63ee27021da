/**
 * The Portico web console: a session (`/ui/api/session`), a navigation bar, and one page per
 * hash route (`#/batches`, `#/batches/<id>`, `#/files`, `#/keys`, `#/spend`, `#/deployments`).
 * Every page reads Portico's public API with the session cookie standing for the key.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, request, useSession } from './api.js';
import { html, Loading } from './components.js';
import { BatchesPage } from './pages/batches.js';
import { BatchPage } from './pages/batch.js';
import { DeploymentsPage } from './pages/deployments.js';
import { FilesPage } from './pages/files.js';
import { KeysPage } from './pages/keys.js';
import { SignInPage } from './pages/sign-in.js';
import { SpendPage } from './pages/spend.js';

const PAGES = [
  { path: 'batches', title: 'Batches', master: false },
  { path: 'files', title: 'Files', master: false },
  { path: 'keys', title: 'Keys', master: true },
  { path: 'spend', title: 'Spend', master: false },
  { path: 'deployments', title: 'Deployments', master: true },
];

function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'batches', id: parts[1] ?? null };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function Page({ route, session }) {
  const page = PAGES.find((entry) => entry.path === route.page) ?? PAGES[0];
  if (page.master && !session.is_master) return html`<p>This page needs the master key.</p>`;
  switch (page.path) {
    case 'batches':
      return route.id ? html`<${BatchPage} id=${route.id} />` : html`<${BatchesPage} />`;
    case 'files':
      return html`<${FilesPage} />`;
    case 'keys':
      return html`<${KeysPage} />`;
    case 'spend':
      return html`<${SpendPage} session=${session} />`;
    default:
      return html`<${DeploymentsPage} />`;
  }
}

function who(session) {
  if (session.is_master) return 'master key';
  return `key ${session.key_id}${session.team_id ? ` (team ${session.team_id})` : session.user_id ? ` (user ${session.user_id})` : ''}`;
}

function App() {
  const [session, setSession] = useState(undefined);
  const route = useRoute();
  const signedIn = (next) => {
    useSession(next, () => setSession(null));
    setSession(next);
  };
  useEffect(() => {
    getJson('/ui/api/session').then(signedIn, () => setSession(null));
  }, []);
  const firstRoute = useRef(true);
  useEffect(() => {
    const page = PAGES.find((entry) => entry.path === route.page);
    document.title = `${page?.title ?? 'Batches'} · Portico console`;
    // A new page: keyboard and screen reader users start at its content, not at the link they left.
    if (!firstRoute.current) document.getElementById('main')?.focus();
    firstRoute.current = false;
  }, [route.page, route.id]);

  if (session === undefined) return html`<main id="main"><${Loading} /></main>`;
  if (session === null) return html`<${SignInPage} onSignedIn=${signedIn} />`;

  const signOut = async () => {
    await request('/ui/api/session', { method: 'DELETE' }).catch(() => undefined);
    useSession(null, () => undefined);
    setSession(null);
  };
  return html`
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Portico</span>
      <nav aria-label="Console pages">
        <ul>
          ${PAGES.filter((page) => !page.master || session.is_master).map(
            (page) => html`<li><a href=${`#/${page.path}`} aria-current=${route.page === page.path ? 'page' : undefined}>${page.title}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span class="muted">Signed in with the ${who(session)}</span>
        <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${Page} route=${route} session=${session} />
    </main>
  `;
}

const container = document.getElementById('app');
// The "Loading" text of the page is replaced, not kept beside the app.
container.textContent = '';
render(html`<${App} />`, container);
