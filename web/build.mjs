// Bundles the web UI (web/src) into exactly three files for `ignite serve` to embed:
//   node web/build.mjs OUTDIR  ->  OUTDIR/index.html, OUTDIR/app.js, OUTDIR/app.css
//
// Security: the server sends a strict CSP (script-src 'self', no inline script); the checks at
// the end refuse an index.html with inline script or style and any output that would load
// something from another origin, so a change that breaks those rules fails the build instead
// of failing quietly in a browser.
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_TOTAL_BYTES = 1024 * 1024;

function die(message) {
  console.error(`web/build.mjs: ${message}`);
  process.exit(1);
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    die(`esbuild is not installed: run 'npm ci' in ${here}`);
  }
}

// index.html: plain markup referencing /ui/app.js and /ui/app.css only.
function checkHtml(html) {
  const problems = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc="\/ui\/app\.js"/.test(m[1]) || m[2].trim() !== '') problems.push('an inline or foreign <script>');
  }
  if (/<style\b/i.test(html)) problems.push('a <style> block');
  if (/\sstyle\s*=/i.test(html)) problems.push('a style attribute');
  if (/\son[a-z]+\s*=/i.test(html)) problems.push('an inline event handler');
  if (!html.includes('src="/ui/app.js"')) problems.push('no <script src="/ui/app.js">');
  if (!html.includes('href="/ui/app.css"')) problems.push('no <link href="/ui/app.css">');
  return problems;
}

// URLs in the bundle: only XML namespace names (never fetched) may appear.
function foreignUrls(text) {
  const allowed = /^https?:\/\/www\.w3\.org\//;
  return [...text.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)]
    .map((m) => m[0])
    .filter((u) => /^(https?:)?\/\//i.test(u) && !allowed.test(u));
}

async function main() {
  const outArg = process.argv[2];
  if (!outArg) die('usage: node build.mjs OUTDIR');
  const out = resolve(outArg);
  const esbuild = await loadEsbuild();
  await mkdir(out, { recursive: true });

  const common = {
    bundle: true,
    minify: true,
    sourcemap: false,
    write: false,
    logLevel: 'silent',
    legalComments: 'eof',
    absWorkingDir: here,
  };
  let js, css;
  try {
    js = await esbuild.build({
      ...common,
      entryPoints: [join(here, 'src/main.js')],
      format: 'esm',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    });
    css = await esbuild.build({ ...common, entryPoints: [join(here, 'src/style.css')], external: ['*'] });
  } catch (e) {
    const errors = (e.errors || []).map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`);
    die(`bundling failed:\n  ${errors.join('\n  ') || e.message}`);
  }
  const appJs = js.outputFiles[0].text;
  const appCss = css.outputFiles[0].text;
  const html = (await readFile(join(here, 'src/index.html'), 'utf8'))
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\n\s*/g, '\n')
    .trim() + '\n';

  const htmlProblems = checkHtml(html);
  if (htmlProblems.length) die(`src/index.html breaks the CSP rules: ${htmlProblems.join(', ')}`);
  for (const [name, text] of [['index.html', html], ['app.js', appJs], ['app.css', appCss]]) {
    const urls = foreignUrls(text);
    if (urls.length) die(`${name} names another origin (${urls.slice(0, 3).join(', ')}): the UI loads from its own server only`);
  }
  if (/@import|@font-face/.test(appCss)) die('app.css imports a stylesheet or a font: the UI uses system fonts only');

  const files = { 'index.html': html, 'app.js': appJs, 'app.css': appCss };
  let total = 0;
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(out, name), text);
    const { size } = await stat(join(out, name));
    total += size;
    console.log(`  ${name.padEnd(10)} ${(size / 1024).toFixed(1).padStart(7)} KiB`);
  }
  console.log(`  ${'total'.padEnd(10)} ${(total / 1024).toFixed(1).padStart(7)} KiB -> ${out}`);
  if (total > MAX_TOTAL_BYTES) die(`the bundle is ${total} bytes, over the ${MAX_TOTAL_BYTES}-byte budget`);
}

main().catch((e) => die(e.stack || String(e)));
