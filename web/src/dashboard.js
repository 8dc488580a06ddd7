// #/dashboard: polls /metrics, /v1/pools, /v1/runs and /health once a second while shown.
import { ApiError, getJson, getText } from './api.js';
import { h, svg, clear, setText } from './dom.js';
import { lineChart, barChart } from './charts.js';
import { formatBytes, formatMs } from './output.js';
import { parsePrometheus, total, byLabel, buckets, bucketDelta, quantile, has } from './prom.js';

const WINDOW_MS = 120_000;
const POLL_MS = 1000;
// Fixed colours for the usual statuses (app.css series-N): ok green, failures warm.
const STATUS_CLASS = { ok: 'series-2', runtime_error: 'series-1', timeout: 'series-3', memory_limit: 'series-4', cancelled: 'series-5', signaled: 'series-1' };

function shortBytes(b) {
  if (b >= 1024 ** 3) return `${+(b / 1024 ** 3).toFixed(1)}G`;
  if (b >= 1024 ** 2) return `${+(b / 1024 ** 2).toFixed(1)}M`;
  if (b >= 1024) return `${+(b / 1024).toFixed(1)}K`;
  return `${b}`;
}

function card(id, label) {
  return h('div', { class: 'card stat' }, h('div', { class: 'stat-label', text: label }), h('div', { id, class: 'stat-value', text: '–' }));
}

function table(id, headers) {
  const body = h('tbody');
  return { el: h('table', { id, class: 'table' }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { text: t })))), body), body };
}

function row(cells, attrs = {}) {
  return h('tr', attrs, cells.map((c) => h('td', { text: c })));
}

export function mountDashboard(container) {
  const chartRate = svg('svg', { id: 'chart-rate', class: 'chart' });
  const chartLatency = svg('svg', { id: 'chart-latency', class: 'chart' });
  const chartMemory = svg('svg', { id: 'chart-memory', class: 'chart' });
  const pools = table('pools', ['runtime', 'service', 'memory', 'idle', 'starting', 'target', 'hits', 'misses']);
  const runs = table('recent-runs', ['time', 'service', 'runtime', 'status', 'wall', 'cpu', 'peak memory']);
  const worker = h('section', { id: 'worker', class: 'card', hidden: true }, h('h3', { text: 'NATS workers' }), h('ul', { class: 'worker-list' }));
  const error = h('p', { id: 'dash-error', class: 'error', role: 'alert' });
  const health = h('p', { id: 'dash-health', class: 'muted' });
  container.append(h('section', { class: 'view dashboard' },
    h('div', { class: 'stats' },
      card('dash-executions-total', 'executions'), card('dash-in-flight', 'in flight'),
      card('dash-queue-depth', 'queued'), card('dash-jobs-queued', 'async jobs queued')),
    health, error,
    h('div', { class: 'charts' },
      h('figure', { class: 'card' }, h('figcaption', { text: 'executions per second, by status (last 2 min)' }), chartRate),
      h('figure', { class: 'card' }, h('figcaption', { id: 'latency-caption', text: 'run time p50 / p90 / p99' }), chartLatency),
      h('figure', { class: 'card' }, h('figcaption', { text: 'peak memory of runs (all time)' }), chartMemory)),
    h('section', { class: 'card' }, h('h3', { text: 'warm pools' }), pools.el),
    worker,
    h('section', { class: 'card' }, h('h3', { text: 'recent runs' }), runs.el)));

  const history = []; // [{t, byStatus: Map, duration: buckets}]
  const latency = []; // [{t, p50, p90, p99}]
  let stopped = false;
  let timer = 0;
  let controller = null;

  function renderMetrics(text, t) {
    const samples = parsePrometheus(text);
    setText(document.getElementById('dash-executions-total'), String(Math.round(total(samples, 'ignite_executions_total'))));
    setText(document.getElementById('dash-in-flight'), String(total(samples, 'ignite_executions_in_flight')));
    setText(document.getElementById('dash-queue-depth'), String(total(samples, 'ignite_queue_depth')));
    setText(document.getElementById('dash-jobs-queued'), String(total(samples, 'ignite_jobs_queued')));

    const duration = buckets(samples, 'ignite_execution_duration_seconds');
    history.push({ t, byStatus: byLabel(samples, 'ignite_executions_total', 'status'), duration });
    while (history.length > 2 && t - history[0].t > WINDOW_MS + 5000) history.shift();

    // Executions per second by status: deltas between consecutive polls.
    const statuses = [...new Set(history.flatMap((s) => [...s.byStatus.keys()]))].sort();
    const series = statuses.map((status) => ({
      name: status,
      cls: STATUS_CLASS[status],
      points: history.slice(1).map((s, i) => {
        const prev = history[i];
        const d = (s.byStatus.get(status) || 0) - (prev.byStatus.get(status) || 0);
        return [(s.t - t) / 1000, d >= 0 ? d / ((s.t - prev.t) / 1000) : 0];
      }),
    }));
    lineChart(chartRate, { series: series.length ? series : [{ name: 'no runs yet', points: [] }], x0: -WINDOW_MS / 1000, x1: 0, format: (v) => v.toFixed(v < 10 ? 1 : 0), xLabel: 'seconds ago → now' });

    // Latency quantiles over the window's runs; all runs since start while the window has none.
    const windowed = bucketDelta(duration, history[0].duration);
    const useWindow = history.length > 1 && windowed.length && windowed[windowed.length - 1].count > 0;
    const source = useWindow ? windowed : duration;
    setText(document.getElementById('latency-caption'), `run time p50 / p90 / p99 (${useWindow ? 'runs in the last 2 min' : 'all runs'})`);
    latency.push({ t, p50: quantile(0.5, source), p90: quantile(0.9, source), p99: quantile(0.99, source) });
    while (latency.length && t - latency[0].t > WINDOW_MS) latency.shift();
    lineChart(chartLatency, {
      series: ['p50', 'p90', 'p99'].map((q) => ({ name: q, points: latency.map((l) => [(l.t - t) / 1000, l[q] * 1000]) })),
      x0: -WINDOW_MS / 1000, x1: 0, format: (v) => formatMs(v), xLabel: 'seconds ago → now',
    });

    // Peak memory: how many runs fell in each bucket.
    const mem = buckets(samples, 'ignite_execution_peak_memory_bytes');
    const bars = mem.map((b, i) => ({
      label: b.le === Infinity ? `>${shortBytes(mem[i - 1]?.le ?? 0)}` : `≤${shortBytes(b.le)}`,
      value: b.count - (i ? mem[i - 1].count : 0),
    }));
    while (bars.length > 4 && bars[bars.length - 1].value === 0 && bars[bars.length - 2].value === 0) bars.pop();
    barChart(chartMemory, {
      bars,
      format: (v) => String(Math.round(v)), name: 'runs per peak-memory bucket',
    });

    // NATS worker counters: only present when the server feeds workers.
    worker.hidden = !has(samples, 'ignite_worker_jobs_total');
    if (!worker.hidden) {
      const list = worker.querySelector('.worker-list');
      clear(list);
      for (const s of samples.filter((x) => x.name.startsWith('ignite_worker_'))) {
        const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(', ');
        list.append(h('li', { text: `${s.name}${labels ? ` {${labels}}` : ''}: ${s.value}` }));
      }
    }
  }

  function renderPools(doc) {
    clear(pools.body);
    const list = doc.pools || [];
    if (!list.length) pools.body.append(row(['no warm pools', '', '', '', '', '', '', '']));
    for (const p of list) {
      pools.body.append(row([p.runtime, p.service || '(ad-hoc)', p.memoryMb ? `${p.memoryMb} MiB` : '', p.idle, p.starting, p.target, p.hits, p.misses]));
    }
  }

  function renderRuns(result) {
    clear(runs.body);
    if (result.status === 'rejected') {
      const e = result.reason;
      runs.body.append(row([e instanceof ApiError && e.status === 404 ? 'not available on this server' : e.message, '', '', '', '', '', '']));
      return;
    }
    const list = result.value.runs || [];
    if (!list.length) runs.body.append(row(['no runs yet', '', '', '', '', '', '']));
    for (const r of list.slice(0, 20)) {
      const when = new Date(r.time);
      runs.body.append(row([
        Number.isNaN(when.getTime()) ? String(r.time) : when.toLocaleTimeString(),
        r.service || '(ad-hoc)', r.runtime, r.status, formatMs(r.wallMs), formatMs(r.cpuMs), formatBytes(r.memoryPeakBytes),
      ], { dataset: { status: String(r.status) } }));
    }
  }

  async function poll() {
    if (stopped) return;
    const started = Date.now();
    if (!document.hidden) {
      controller = new AbortController();
      const opts = { signal: controller.signal };
      const [metrics, poolDoc, runDoc, healthDoc] = await Promise.allSettled([
        getText('/metrics', opts), getJson('/v1/pools', opts), getJson('/v1/runs', opts), getJson('/health', opts),
      ]);
      controller = null;
      if (stopped) return;
      const failures = [metrics, poolDoc, healthDoc].filter((r) => r.status === 'rejected').map((r) => r.reason);
      if (failures.some((e) => e instanceof ApiError && e.status === 401)) return; // back to the login form
      setText(error, failures.length ? failures[0].message : '');
      if (metrics.status === 'fulfilled') renderMetrics(metrics.value, Date.now());
      if (poolDoc.status === 'fulfilled') renderPools(poolDoc.value);
      renderRuns(runDoc);
      if (healthDoc.status === 'fulfilled') {
        const d = healthDoc.value;
        setText(health, `server ${d.status} · version ${d.version} · up ${Math.round(d.uptimeS)} s`);
      }
    }
    timer = setTimeout(poll, Math.max(100, POLL_MS - (Date.now() - started)));
  }
  poll();

  return () => {
    stopped = true;
    clearTimeout(timer);
    if (controller) controller.abort();
  };
}
