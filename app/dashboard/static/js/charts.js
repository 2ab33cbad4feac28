// Small inline-SVG charts: horizontal bars and a line over points. They size
// themselves with viewBox and are styled by dashboard.css.
import { h, num } from './dom.js';

const svg = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);

// bars draws one horizontal bar per item ({label, value, cls, title}),
// scaled to the largest value (or max). A threshold, when given, is drawn as
// a dashed line at that value.
export function bars(items, { max, threshold, unit = '', width = 640 } = {}) {
  const labelW = 170;
  const valueW = 110;
  const rowH = 26;
  const top = 6;
  const height = top + items.length * rowH + 6;
  const scale = Math.max(max || 0, threshold || 0, ...items.map((i) => Number(i.value) || 0), 1);
  const barW = width - labelW - valueW;
  const x = (v) => labelW + (barW * Math.min(Number(v) || 0, scale)) / scale;
  const rows = items.map((it, k) => {
    const y = top + k * rowH;
    return svg('g', { 'data-label': it.label, 'data-value': String(it.value) },
      svg('title', null, it.title || `${it.label}: ${num(it.value)}${unit}`),
      svg('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', class: 'label' }, it.label),
      svg('rect', { x: labelW, y: y + 4, width: barW, height: rowH - 10, class: 'track' }),
      svg('rect', { x: labelW, y: y + 4, width: Math.max(x(it.value) - labelW, 0), height: rowH - 10, class: `bar ${it.cls || ''}` }),
      svg('text', { x: labelW + barW + 8, y: y + 16 }, `${num(it.value)}${unit}`));
  });
  const marker = threshold
    ? svg('line', { x1: x(threshold), x2: x(threshold), y1: 1, y2: height - 1, class: 'threshold' },
      svg('title', null, `threshold ${num(Math.ceil(threshold))}${unit}`))
    : null;
  return svg('svg', { class: 'chart bars', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' }, rows, marker);
}

// line draws points ({x, y}) in order, x and y numeric, with axis labels.
// With alt set, the line is drawn in the second colour.
export function line(points, { xLabel = '', alt = false, width = 560, height = 180 } = {}) {
  const pad = { l: 84, r: 12, t: 12, b: 30 };
  if (!points.length) return h('p', { class: 'muted' }, 'no points yet');
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y1 = Math.max(...ys, 1);
  const px = (v) => pad.l + (x1 === x0 ? (width - pad.l - pad.r) / 2 : ((v - x0) * (width - pad.l - pad.r)) / (x1 - x0));
  const py = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / y1;
  const cls = alt ? 'alt' : '';
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
  return svg('svg', { class: 'chart line-chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' },
    svg('line', { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, class: 'axis' }),
    svg('line', { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b, class: 'axis' }),
    svg('text', { x: pad.l - 6, y: pad.t + 8, 'text-anchor': 'end' }, num(y1)),
    svg('text', { x: pad.l - 6, y: height - pad.b, 'text-anchor': 'end' }, '0'),
    svg('text', { x: pad.l, y: height - 8 }, String(x0)),
    svg('text', { x: width - pad.r, y: height - 8, 'text-anchor': 'end' }, String(x1)),
    svg('text', { x: (width + pad.l) / 2, y: height - 8, 'text-anchor': 'middle' }, xLabel),
    svg('path', { d, class: `line ${cls}` }),
    points.map((p) => svg('circle', { cx: px(p.x), cy: py(p.y), r: 3, class: `dot ${cls}` },
      svg('title', null, `${xLabel} ${p.x}: ${num(p.y)}`))));
}
