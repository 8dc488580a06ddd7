// Reads the Prometheus text format of GET /metrics and the numbers the dashboard derives from it.
function parseValue(text) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parsePrometheus(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return samples;
}

export function has(samples, name) {
  return samples.some((s) => s.name === name);
}

export function total(samples, name) {
  let sum = 0;
  for (const s of samples) if (s.name === name && Number.isFinite(s.value)) sum += s.value;
  return sum;
}

// name's values summed per value of `label`: Map(labelValue -> sum).
export function byLabel(samples, name, label) {
  const out = new Map();
  for (const s of samples) {
    if (s.name !== name || !Number.isFinite(s.value)) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) || 0) + s.value);
  }
  return out;
}

// A histogram's cumulative buckets summed over all other labels: [{le, count}] by le.
export function buckets(samples, name) {
  const byLe = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) || 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

// now - before, bucket by bucket (a counter that went down was reset: use now).
export function bucketDelta(now, before) {
  if (!before) return now;
  const old = new Map(before.map((b) => [b.le, b.count]));
  const delta = now.map((b) => ({ le: b.le, count: b.count - (old.get(b.le) || 0) }));
  return delta.some((b) => b.count < 0) ? now : delta;
}

// histogram_quantile: linear interpolation inside the bucket that holds the q-th observation.
export function quantile(q, cumulative) {
  if (!cumulative.length) return NaN;
  const count = cumulative[cumulative.length - 1].count;
  if (!(count > 0)) return NaN;
  const rank = q * count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of cumulative) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket : b.le;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
