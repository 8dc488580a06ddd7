// Drives Ignite's web UI (/ui/) in headless Chromium against a running `ignite serve`, as a
// person would: log in, type and run code, open a service, watch the dashboard.
//
//   node drive.mjs --url http://127.0.0.1:PORT --key KEY --service NAME --artifacts DIR
//
// Prints `ok <check>` or `FAIL <check>: <reason>` per check, saves a screenshot per step into
// DIR, exits 1 if any check failed and 77 (skip) when playwright-core or Chromium is missing.
// Security: besides the features, it fails on any request to another origin, any console
// error, any CSP violation, any dialog (a program's output must never run as script).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const CHROMIUM = '/usr/bin/chromium';

function parseArgs(argv) {
  const out = {
    service: 'data-processor',
    'service-input': '{"data":[1,2,3],"operation":"sum"}',
    'service-expect': '"result": ?6\\b',
  };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]);
    if (!m || i + 1 >= argv.length) {
      console.error(`drive.mjs: bad argument ${argv[i]} (usage: --url URL --key KEY --service NAME --artifacts DIR)`);
      process.exit(2);
    }
    out[m[1]] = argv[++i];
  }
  for (const need of ['url', 'key', 'artifacts']) {
    if (!out[need]) {
      console.error(`drive.mjs: --${need} is required`);
      process.exit(2);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('skip: playwright-core is not installed (npm install --no-package-lock in tests/ui_client)');
  process.exit(77);
}
if (!existsSync(CHROMIUM)) {
  console.log(`skip: ${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(77);
}

const base = new URL(args.url);
const origin = base.origin;
await mkdir(args.artifacts, { recursive: true });

const requests = [];
const consoleErrors = [];
const dialogs = [];
let expectUnauthorized = true; // the first /v1/runtimes without a key answers 401 by design
let failed = 0;
let step = 0;

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// Init scripts run outside the page's CSP: report every violation as a console error.
await context.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
  });
});
const page = await context.newPage();
page.on('request', (r) => requests.push(r.url()));
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const text = m.text();
  const where = m.location()?.url || '';
  if (expectUnauthorized && /status of 401/.test(text) && where.includes('/v1/runtimes')) return;
  consoleErrors.push(`${text}${where ? ` (${where})` : ''}`);
});
page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
page.on('dialog', async (d) => {
  dialogs.push(`${d.type()}: ${d.message()}`);
  await d.dismiss().catch(() => {});
});

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function check(name, fn) {
  step++;
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${String(e.message || e).split('\n')[0]}`);
  }
  await page.screenshot({ path: join(args.artifacts, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true }).catch(() => {});
}

const text = (sel) => page.locator(sel).first().textContent({ timeout: 10_000 });
const editorText = () =>
  page.evaluate(() => [...document.querySelector('#editor').shadowRoot.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'));

async function pickPython() {
  const value = await page.evaluate(() => [...document.querySelectorAll('#runtime option')].map((o) => o.value).find((v) => v.startsWith('python@')));
  assert(value, 'no python runtime in #runtime');
  await page.selectOption('#runtime', value);
}

async function clearEditor() {
  await page.locator('#editor .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  assert((await editorText()) === '', 'the editor did not clear');
}

async function setCode(code) {
  await clearEditor();
  await page.keyboard.insertText(code);
  const got = await editorText();
  assert(got === code, `the editor holds ${JSON.stringify(got)}, not the program`);
}

async function waitStatus(sel, want, timeout = 90_000) {
  await page.waitForFunction(([s]) => {
    const t = document.querySelector(s)?.textContent || '';
    return t !== '' && t !== 'running…' && t !== 'idle';
  }, [sel], { timeout });
  const got = await text(sel);
  if (got !== want) {
    const err = await page.locator(sel.startsWith('#service') ? '#service-error' : '#run-error').textContent().catch(() => '');
    const stderr = await page.locator(sel.startsWith('#service') ? '#service-stderr' : '#stderr').textContent().catch(() => '');
    throw new Error(`status ${got}, wanted ${want} (${(err || stderr || '').trim().slice(0, 200)})`);
  }
}

await check('login_only_without_key', async () => {
  await page.goto(`${origin}/ui/`);
  await page.locator('#login').waitFor({ state: 'visible', timeout: 15_000 });
  assert(await page.locator('#api-key').isVisible(), '#api-key is not visible');
  assert(await page.locator('#login-submit').isVisible(), '#login-submit is not visible');
  assert(await page.locator('#app').isHidden(), '#app is visible before login');
  const children = await page.evaluate(() => document.getElementById('app').childElementCount);
  assert(children === 0, `#app holds ${children} elements before login`);
  const body = await page.evaluate(() => document.body.innerText + document.documentElement.outerHTML);
  const leak = /\b(python|node|bun|deno|quickjs)@|python|quickjs/i.exec(body) || (body.includes(args.service) ? [args.service] : null);
  assert(!leak, `the page shows ${leak && leak[0]} before login`);
  const api = requests.filter((u) => new URL(u).pathname !== '/ui/' && !/\/ui\/app\.(js|css)$/.test(new URL(u).pathname));
  assert(api.every((u) => new URL(u).pathname === '/v1/runtimes'), `requests before login beyond /v1/runtimes: ${api.join(', ')}`);
});

await check('login_with_key', async () => {
  await page.fill('#api-key', 'not-the-key');
  await page.click('#login-submit');
  await page.waitForFunction(() => (document.getElementById('login-error')?.textContent || '') !== '', null, { timeout: 15_000 });
  assert(await page.locator('#app').isHidden(), 'a wrong key showed the app');
  await page.fill('#api-key', args.key);
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('#runtime option').first().waitFor({ state: 'attached', timeout: 15_000 });
  assert(await page.locator('#login').isHidden(), '#login is still shown');
  const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage).length, local: localStorage.length, cookie: document.cookie }));
  assert(stored.session === 1 && stored.local === 0 && stored.cookie === '', `key storage: ${JSON.stringify(stored)}`);
  expectUnauthorized = false;
});

await check('streamed_output_arrives_before_the_end', async () => {
  await pickPython();
  await page.selectOption('#profile', '');
  await clearEditor();
  const lines = ['import time', 'print("first", flush=True)', 'time.sleep(2)', 'print("second")'];
  for (const [i, line] of lines.entries()) {
    await page.keyboard.type(line, { delay: 10 });
    await page.keyboard.press('Escape'); // close a completion popup, or Enter would accept it
    if (i < lines.length - 1) await page.keyboard.press('Enter');
  }
  const got = await editorText();
  assert(got === lines.join('\n'), `typed ${JSON.stringify(lines.join('\n'))} but the editor holds ${JSON.stringify(got)}`);
  await page.locator('#editor .cm-content').focus();
  await page.keyboard.press('Control+Enter');
  const seen = await page.waitForFunction(() => {
    const out = document.getElementById('stdout')?.textContent || '';
    return out.includes('first') ? { status: document.getElementById('status').textContent, out } : false;
  }, null, { timeout: 60_000, polling: 20 });
  const at = await seen.jsonValue();
  assert(at.status === 'running…', `"first" appeared only with status ${at.status}`);
  assert(!at.out.includes('second'), '"second" arrived together with "first"');
  await waitStatus('#status', 'ok');
  assert((await text('#exit-code')) === '0', `exit code ${await text('#exit-code')}`);
  const out = await text('#stdout');
  assert(out === 'first\nsecond\n', `stdout ${JSON.stringify(out)}`);
  for (const [m, unit] of [['wall', /\d.*\b(ms|s)$/], ['cpu', /\d.*\b(ms|s)$/], ['memory', /\d.*\b(B|KiB|MiB|GiB|MB)$/], ['pids', /^\d+ pids$/], ['cold', /^(cold|warm)$/]]) {
    const v = (await text(`#metrics [data-metric="${m}"]`)).trim();
    assert(unit.test(v), `metric ${m} reads ${JSON.stringify(v)}`);
  }
});

await check('html_in_output_is_text', async () => {
  const a = '<script>alert(1)</script>';
  const b = '<img src=x onerror=alert(2)>';
  await setCode(`print(${JSON.stringify(a)})\nprint(${JSON.stringify(b)})\n`);
  await page.click('#run');
  await waitStatus('#status', 'ok');
  const out = await text('#stdout');
  assert(out.includes(a) && out.includes(b), `stdout ${JSON.stringify(out)}`);
  assert((await page.evaluate(() => document.getElementById('stdout').childElementCount)) === 0, '#stdout has element children');
  await page.waitForTimeout(500);
  assert(dialogs.length === 0, `a dialog fired: ${dialogs.join('; ')}`);
});

await check('chart_from_out_is_shown', async () => {
  await pickPython();
  await page.selectOption('#profile', 'datascience');
  await setCode('import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.savefig("/out/chart.png")');
  // The e2e suite on microvm (tests/e2e/run_microvm.sh): under emulation, importing matplotlib
  // takes longer than the server's default timeout, so the run asks for more, as a user would.
  const emulated = process.env.IGNITE_E2E_ISOLATION === 'microvm';
  if (emulated) await page.fill('#limit-timeout', '60000');
  await page.click('#run');
  await waitStatus('#status', 'ok', 120_000);
  await page.waitForFunction(() => {
    const img = document.querySelector('#files figure.out-file img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 15_000 });
  await page.selectOption('#profile', '');
  if (emulated) await page.fill('#limit-timeout', '');
});

await check('service_runs_from_the_services_view', async () => {
  await page.click('nav a[data-route="services"]');
  const item = page.locator(`#services-list .service[data-name="${args.service}"]`);
  await item.waitFor({ state: 'visible', timeout: 15_000 });
  await item.click();
  await page.locator('#preflight .check').first().waitFor({ state: 'visible', timeout: 30_000 });
  const statuses = await page.locator('#preflight .check').evaluateAll((els) => els.map((e) => e.dataset.status));
  assert(statuses.length > 0 && statuses.every((s) => ['pass', 'warn', 'fail'].includes(s)), `preflight statuses ${statuses}`);
  const config = await text('#service-config');
  assert(config.includes(`"name": "${args.service}"`), `#service-config: ${config.slice(0, 120)}`);
  await page.fill('#service-input', args['service-input']);
  await page.click('#service-run');
  await waitStatus('#service-status', 'ok');
  const out = await text('#service-stdout');
  assert(new RegExp(args['service-expect']).test(out), `#service-stdout ${JSON.stringify(out.slice(0, 200))}`);
});

await check('dashboard_counter_moves', async () => {
  await page.click('nav a[data-route="dashboard"]');
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('dash-executions-total')?.textContent || ''), null, { timeout: 15_000 });
  await page.evaluate(() => { window.__noReload = true; });
  const before = Number(await text('#dash-executions-total'));
  const status = await page.evaluate(async () => {
    const key = sessionStorage.getItem(Object.keys(sessionStorage)[0]);
    const res = await fetch('/v1/execute', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ runtime: 'python', code: 'print(1)' }),
    });
    return res.status;
  });
  assert(status === 200, `POST /v1/execute answered ${status}`);
  await page.waitForFunction((n) => Number(document.getElementById('dash-executions-total').textContent) > n, before, { timeout: 10_000 });
  assert(await page.evaluate(() => window.__noReload === true), 'the page reloaded');
  await page.locator('#chart-rate polyline, #chart-rate circle').first().waitFor({ state: 'attached', timeout: 10_000 });
  for (const id of ['chart-latency', 'chart-memory']) {
    assert((await page.locator(`#${id} line, #${id} polyline, #${id} rect`).count()) > 0, `#${id} is empty`);
  }
  assert((await page.locator('#pools tbody tr').count()) > 0, '#pools has no rows');
  assert((await page.locator('#recent-runs tbody tr').count()) > 0, '#recent-runs has no rows');
});

await check('no_outside_requests', async () => {
  const outside = requests.filter((u) => {
    const url = new URL(u);
    return !['data:', 'blob:'].includes(url.protocol) && url.origin !== origin;
  });
  assert(outside.length === 0, `requests to other origins: ${[...new Set(outside)].slice(0, 5).join(', ')}`);
});

await check('no_console_errors_or_csp_violations', async () => {
  assert(consoleErrors.length === 0, `${consoleErrors.length} console error(s): ${consoleErrors.slice(0, 3).join(' | ')}`);
});

await browser.close();
console.log(`${step - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
