// DOM building and formatting helpers. Pages are built with h(), never from
// HTML strings, so chain data is always text.

// h creates an element: h('a', {href: '#/'}, 'text', child…). Attributes
// named on* are not supported (the page's CSP has no inline script anyway).
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const panel = (title, ...body) => h('section', { class: 'panel' }, title ? h('h2', null, title) : null, ...body);

export const kv = (rows) => h('dl', { class: 'kv' }, rows.filter(Boolean).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));

export function table(headers, rows, empty = 'none') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', null,
    h('thead', null, h('tr', null, headers.map((c) => h('th', { class: c.startsWith('#') ? 'num' : null }, c.replace(/^#/, ''))))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((cell, i) => h('td', { class: headers[i].startsWith('#') ? 'num' : null }, cell))))));
}

export const stat = (k, v, id) => h('div', { class: 'stat', 'data-stat': id }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));

// statusName drops an enum's prefix: TASK_STATUS_COMPLETED → COMPLETED.
export const statusName = (s) => String(s || '').replace(/^(TASK_STATUS|SERVICE_STATUS|FAILURE_REASON|ORIGIN_KIND|WEIGHTING|AGGREGATION_MODE|ADMISSION)_/, '');

export const badge = (s, cls) => h('span', { class: `badge ${cls || statusName(s)}` }, statusName(s));

export const taskLink = (id) => h('a', { href: `#/task/${id}` }, `#${id}`);
export const serviceLink = (id, name) => h('a', { href: `#/service/${id}` }, name ? `${name} (${id})` : `service ${id}`);
export const operatorLink = (addr, moniker) => h('a', { href: `#/operator/${addr}`, class: moniker ? null : 'mono', title: addr }, moniker || short(addr));

export const short = (s, n = 10) => (s && s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-6)}` : s || '');

// num formats an integer (string, number or BigInt) with thousands separators.
export function num(v) {
  if (v === undefined || v === null || v === '') return '0';
  try {
    return BigInt(String(v).split('.')[0]).toLocaleString('en-US');
  } catch {
    return String(v);
  }
}

export const coin = (c) => (c && c.denom ? `${num(c.amount)} ${c.denom}` : '0');

// dec formats a decimal ("0.660000000000000000") without trailing zeros.
export function dec(s) {
  if (!s) return '0';
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export const percent = (s) => `${+(parseFloat(s || '0') * 100).toFixed(2)}%`;

export function time(s) {
  if (!s || s.startsWith('0001-01-01')) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// bytesOf decodes the base64 of a JSON bytes field.
export function bytesOf(b64) {
  let bin;
  try {
    bin = atob(b64 || '');
  } catch {
    bin = String(b64); // not base64: show what the node sent
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// printable is the bytes as text when they are UTF-8 without control
// characters (tabs and newlines allowed), else null.
export function printable(bytes) {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) ? null : s;
  } catch {
    return null;
  }
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// bytesText shows base64 bytes as text when printable, else as hex.
export function bytesText(b64, max = 0) {
  const bytes = bytesOf(b64);
  if (!bytes.length) return { text: '', kind: 'empty' };
  const s = printable(bytes);
  let text = s !== null ? s : hex(bytes);
  if (max && text.length > max) text = `${text.slice(0, max)}…`;
  return { text, kind: s !== null ? 'text' : 'hex' };
}

export function bytesBlock(b64, empty = '(empty)') {
  const { text, kind } = bytesText(b64);
  if (kind === 'empty') return h('span', { class: 'muted' }, empty);
  return h('div', null, h('pre', { class: 'bytes mono', 'data-kind': kind }, text),
    h('span', { class: 'note' }, kind === 'hex' ? `hex, ${bytesOf(b64).length} bytes` : `text, ${bytesOf(b64).length} bytes`));
}

// copyable is a command line with a button that copies it.
export function copyable(cmd) {
  const code = h('code', { class: 'mono' }, cmd);
  const btn = h('button', { class: 'small', type: 'button', 'data-copy': cmd }, 'copy');
  return h('div', { class: 'cmd' }, code, btn);
}

// Bech32 (BIP-173) checksum, to tell a mistyped address before asking the node.
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function polymod(values) {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >> i) & 1) chk ^= GEN[i];
  }
  return chk;
}

// addressError says why s is not an avschain account address, or returns ''.
export function addressError(s, prefix = 'avs') {
  if (!s) return 'no address given';
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return 'mixes upper and lower case';
  const a = s.toLowerCase();
  const sep = a.lastIndexOf('1');
  if (sep < 1 || a.length - sep < 7) return 'is not a bech32 address';
  if (a.slice(0, sep) !== prefix) return `does not start with "${prefix}1"`;
  const data = [];
  for (const c of a.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return `has a character bech32 does not use ("${c}")`;
    data.push(v);
  }
  const hrp = a.slice(0, sep);
  const exp = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  if (polymod(exp.concat(data)) !== 1) return 'has a wrong checksum (a mistyped character?)';
  return '';
}

// UserError is bad input the page explains without asking the node.
export class UserError extends Error {}
