// Starts the UI: asks the server for its runtimes (this also tells whether a key is needed),
// then shows either the login form alone or the app with hash routing:
// #/playground (default), #/services, #/dashboard.
import { ApiError, clearKey, getJson, getKey, onUnauthorized } from './api.js';
import { h, clear, setText } from './dom.js';
import { showLogin, hideLogin } from './login.js';
import { mountPlayground } from './playground.js';
import { mountServices } from './services.js';
import { mountDashboard } from './dashboard.js';

const ROUTES = {
  playground: { title: 'Playground', mount: mountPlayground },
  services: { title: 'Services', mount: mountServices },
  dashboard: { title: 'Dashboard', mount: mountDashboard },
};

const app = document.getElementById('app');
let ctx = null; // {runtimes, usesKey}
let unmount = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { name: ROUTES[path] ? path : 'playground', query: new URLSearchParams(query) };
}

function unmountView() {
  if (unmount) unmount();
  unmount = null;
}

// Back to the login form with nothing of the app left in the page.
function logout(message) {
  unmountView();
  window.removeEventListener('hashchange', route);
  clearKey();
  ctx = null;
  clear(app);
  app.hidden = true;
  showLogin(start, message);
}

function route() {
  if (!ctx) return;
  unmountView();
  const { name, query } = parseHash();
  for (const a of app.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.route === name);
  const main = clear(app.querySelector('main'));
  document.title = `Ignite · ${ROUTES[name].title}`;
  unmount = ROUTES[name].mount(main, ctx, query);
}

function start(runtimesDoc) {
  hideLogin();
  ctx = { runtimes: runtimesDoc.runtimes || [], usesKey: getKey() !== '' };
  const logoutBtn = h('button', { id: 'logout', type: 'button', class: 'link', text: 'Log out', hidden: !ctx.usesKey });
  logoutBtn.addEventListener('click', () => logout(''));
  clear(app).append(
    h('header', { class: 'topbar' },
      h('span', { class: 'brand', text: 'Ignite' }),
      h('nav', {}, Object.entries(ROUTES).map(([name, r]) => h('a', { href: `#/${name}`, dataset: { route: name }, text: r.title }))),
      logoutBtn),
    h('main', { class: 'content' }));
  app.hidden = false;
  window.addEventListener('hashchange', route);
  route();
}

async function boot() {
  onUnauthorized(() => logout('The server no longer accepts this key: sign in again.'));
  try {
    start(await getJson('/v1/runtimes', { key: getKey() }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      clearKey();
      showLogin(start);
      return;
    }
    const el = document.getElementById('boot-error');
    setText(el, `Cannot load the runtimes: ${e.message}`);
    el.hidden = false;
  }
}

boot();
