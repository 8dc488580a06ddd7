// Small SVG charts drawn with createElementNS (no chart library): a line chart of series over
// time and a bar chart. Colours come from app.css classes (series-0…series-5).
import { svg, clear } from './dom.js';

const W = 420;
const H = 210;
const PAD = { left: 52, right: 10, top: 10, bottom: 42 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(el, yMax, format) {
  clear(el);
  el.setAttribute('viewBox', `0 0 ${W} ${H}`);
  el.setAttribute('role', 'img');
  const plotH = H - PAD.top - PAD.bottom;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    el.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    el.append(svg('text', { class: 'axis', x: PAD.left - 6, y: y + 4, 'text-anchor': 'end' }, format((yMax * i) / 4)));
  }
}

function legend(el, entries) {
  let x = PAD.left;
  entries.forEach(({ name, cls }) => {
    el.append(svg('rect', { class: `${cls} swatch`, x, y: H - 14, width: 10, height: 10 }));
    el.append(svg('text', { class: 'legend', x: x + 14, y: H - 5 }, name));
    x += 24 + name.length * 6.5;
  });
}

// series: [{name, points: [[x, y]], cls?}]; xs within [x0, x1]; cls: a series-N colour class.
export function lineChart(el, { series, x0, x1, format = String, xLabel = '' }) {
  let yMax = 0;
  for (const s of series) for (const [, y] of s.points) if (Number.isFinite(y)) yMax = Math.max(yMax, y);
  yMax = niceMax(yMax);
  frame(el, yMax, format);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const px = (x) => PAD.left + (plotW * (x - x0)) / (x1 - x0 || 1);
  const py = (y) => PAD.top + plotH - (plotH * y) / yMax;
  series.forEach((s, i) => {
    const cls = s.cls || `series-${i % 6}`;
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length === 0) return;
    if (pts.length === 1) {
      el.append(svg('circle', { class: `${cls} dot`, cx: px(pts[0][0]), cy: py(pts[0][1]), r: 3 }));
      return;
    }
    el.append(svg('polyline', {
      class: `${cls} line`,
      points: pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '),
    }));
  });
  if (xLabel) el.append(svg('text', { class: 'axis', x: W - PAD.right, y: H - 24, 'text-anchor': 'end' }, xLabel));
  legend(el, series.map((s, i) => ({ name: s.name, cls: s.cls || `series-${i % 6}` })));
}

// bars: [{label, value}]
export function barChart(el, { bars, format = String, name = '' }) {
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  frame(el, yMax, format);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const hgt = (plotH * b.value) / yMax;
    const x = PAD.left + i * bw;
    el.append(svg('rect', { class: 'series-0 bar', x: x + 2, y: PAD.top + plotH - hgt, width: Math.max(1, bw - 4), height: hgt },
      svg('title', {}, `${b.label}: ${b.value}`)));
    if (bars.length <= 8 || i % Math.ceil(bars.length / 8) === 0) {
      el.append(svg('text', { class: 'axis', x: x + bw / 2, y: H - PAD.bottom + 14, 'text-anchor': 'middle' }, b.label));
    }
  });
  if (name) el.append(svg('text', { class: 'legend', x: PAD.left, y: H - 5 }, name));
}
