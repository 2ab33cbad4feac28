// The dashboard's entry point: hash routes to views, a poll of the latest
// block that refreshes the current view at every new height, and the
// messages shown when input is bad or the node does not answer.
import { ApiError, chain } from './api.js';
import { addressError, h, UserError } from './dom.js';
import * as network from './views/network.js';
import * as service from './views/service.js';
import * as task from './views/task.js';
import * as operator from './views/operator.js';
import * as commitments from './views/commitments.js';

// routes map a hash's first segment to a view; a view's load(arg, ctx)
// returns the page as a DOM node, built off-screen.
const routes = { '': network, service, task, operator, commitments };

const POLL_MS = 1000;
const view = document.getElementById('view');
const banner = document.getElementById('banner');
const chainEl = document.getElementById('chain');

// ctx is what every view may read: the latest block and the node's info.
const ctx = { height: 0, time: '', chainId: '', blockTime: 0, rpc: '', gasPrices: '' };
let seq = 0; // the number of the newest render; older ones are dropped
let rendering = null;
let again = false; // a block arrived while rendering
let shownHash = null; // the location.hash of the page on screen

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  return { name: parts[0] || '', arg: decodeURIComponent(parts.slice(1).join('/')) };
}

function errorPage(route, err) {
  let title = 'Something went wrong';
  let detail = err.message;
  if (err instanceof UserError) {
    title = 'Bad input';
  } else if (err instanceof ApiError) {
    if (err.status === 404) title = 'Not found';
    else if (err.status === 0) title = 'The node is not answering';
    else if (err.status === 400) title = 'Bad request';
    else title = `The node answered ${err.status}`;
    detail = `${err.message} (${err.path})`;
  }
  return h('div', { class: 'error', 'data-error': route }, h('h2', null, title), h('p', null, detail),
    h('p', null, h('a', { href: '#/' }, 'Back to the network')));
}

// render loads the current route's view and swaps it in, unless a newer
// render started meanwhile or the page is unchanged (so a refresh keeps
// selections and scroll).
async function render(fresh) {
  const my = ++seq;
  const { name, arg } = parseHash();
  const route = routes[name];
  // a fresh render of the page already on screen (the first block's) keeps
  // it until the new one is ready, instead of flashing "Loading…"
  if (fresh && shownHash !== location.hash) view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  let page;
  try {
    if (!route) throw new UserError(`There is no page "${name}". Pages: #/, #/service/ID, #/task/ID, #/operator/ADDRESS, #/commitments/ADDRESS.`);
    page = await route.load(arg, ctx);
  } catch (err) {
    page = errorPage(name || 'network', err);
  }
  if (my !== seq) return;
  page.setAttribute('data-view', name || 'network');
  page.setAttribute('data-height', String(ctx.height));
  const old = view.firstElementChild;
  if (!fresh && old && old.isEqualNode(page)) return;
  view.replaceChildren(page);
  shownHash = location.hash;
  view.setAttribute('data-rendered', String(ctx.height));
  document.title = `${page.querySelector('h1')?.textContent || 'avschain'} · avschain dashboard`;
}

// refresh runs render, one at a time for block refreshes: a refresh asked
// while one runs is merged into a single follow-up. A new route (fresh)
// starts at once; the older render's page is dropped by seq.
function refresh(fresh = false) {
  if (rendering && !fresh) {
    again = true;
    return;
  }
  const r = render(fresh).finally(() => {
    if (rendering !== r) return;
    rendering = null;
    if (again) {
      again = false;
      refresh(false);
    }
  });
  rendering = r;
}

function setBanner(text) {
  banner.hidden = !text;
  banner.textContent = text || '';
}

async function poll() {
  try {
    const b = await chain.latestBlock();
    const hdr = b.block.header;
    const height = Number(hdr.height);
    setBanner('');
    if (height !== ctx.height) {
      const first = ctx.height === 0;
      await updateChain(height, hdr);
      if (first) refresh(true);
      else refresh(false);
    }
  } catch (err) {
    setBanner(`The node is not answering (${err.message}); the page shows height ${ctx.height || 'none'} and retries every second.`);
    if (ctx.height === 0) view.replaceChildren(errorPage('network', err));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// updateChain records the new head and the average block time over the last
// (up to) 20 blocks.
async function updateChain(height, hdr) {
  ctx.height = height;
  ctx.time = hdr.time;
  ctx.chainId = hdr.chain_id;
  const back = Math.min(20, height - 1);
  if (back > 0) {
    try {
      const old = await chain.block(height - back);
      ctx.blockTime = (Date.parse(hdr.time) - Date.parse(old.block.header.time)) / back / 1000;
    } catch {
      // pruned: keep the last figure
    }
  }
  chainEl.replaceChildren(h('b', null, ctx.chainId), ` · height `, h('b', { id: 'height' }, String(height)),
    ctx.blockTime ? ` · ${ctx.blockTime.toFixed(2)} s/block` : '');
}

async function nodeInfo() {
  try {
    const [info, cfg] = await Promise.all([chain.nodeInfo(), chain.nodeConfig()]);
    ctx.rpc = info.default_node_info?.other?.rpc_address || '';
    ctx.gasPrices = (cfg.minimum_gas_price || '').split(',')[0].replace(/\.?0+(?=[a-z])/i, '');
  } catch {
    // the commands are shown without --node and --gas-prices
  }
}

// lookup goes to what the top box names: a task id, s<id> for a service, an
// address (commitments for an account, its page for an operator).
document.getElementById('lookup').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('lookup-input').value.trim();
  if (/^\d+$/.test(q)) location.hash = `#/task/${q}`;
  else if (/^s\d+$/i.test(q)) location.hash = `#/service/${q.slice(1)}`;
  else if (q.startsWith('avs')) location.hash = addressError(q) ? `#/commitments/${q}` : `#/operator/${q}`;
  else location.hash = `#/commitments/${q}`;
});

// copy buttons, and the address forms views put on the page
document.addEventListener('click', async (ev) => {
  const btn = ev.target.closest('button[data-copy]');
  if (!btn) return;
  try {
    await navigator.clipboard.writeText(btn.dataset.copy);
    btn.textContent = 'copied';
  } catch {
    btn.textContent = 'select it';
  }
});
document.addEventListener('submit', (ev) => {
  const form = ev.target.closest('form[data-goto]');
  if (!form) return;
  ev.preventDefault();
  location.hash = `${form.dataset.goto}${form.querySelector('input').value.trim()}`;
});

window.addEventListener('hashchange', () => refresh(true));
window.addEventListener('unhandledrejection', (ev) => {
  view.replaceChildren(errorPage('page', ev.reason instanceof Error ? ev.reason : new Error(String(ev.reason))));
});

await nodeInfo();
poll();
