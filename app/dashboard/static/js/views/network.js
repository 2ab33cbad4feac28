// #/ : the network at a glance.
import { avs, list } from '../api.js';
import { badge, bytesText, coin, h, num, operatorLink, panel, percent, serviceLink, stat, statusName, table, taskLink } from '../dom.js';

// WINDOW is the number of recent blocks whose tasks the status counts cover.
export const WINDOW = 100;
// PER_SERVICE is how many of each service's newest tasks are read.
const PER_SERVICE = 50;

export async function load(_arg, ctx) {
  const [services, operators] = await Promise.all([avs.services(), avs.operators()]);
  const [taskLists, optedIn, pools] = await Promise.all([
    Promise.all(services.map((s) => avs.latestTasks(s.id, PER_SERVICE))),
    Promise.all(services.map((s) => avs.serviceOperators(s.id))),
    Promise.all(operators.map((o) => list(`/avschain/avs/v1/operators/${o.address}/commitments`, 'pools', { limit: 500, maxPages: 1 }))),
  ]);
  const tasks = taskLists.flat().sort((a, b) => Number(b.id) - Number(a.id));
  const names = Object.fromEntries(services.map((s) => [s.id, s.manifest.name]));

  const counts = { PENDING: 0, COMPLETED: 0, FAILED: 0, EXPIRED: 0 };
  const from = ctx.height - WINDOW;
  for (const t of tasks) {
    if (Number(t.created_height) > from) counts[statusName(t.status)] = (counts[statusName(t.status)] || 0) + 1;
  }
  let staked = 0n;
  const seen = new Set();
  for (const p of pools.flat()) {
    const key = `${p.operator}/${p.service_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    staked += BigInt(p.total || '0');
  }

  return h('div', null,
    h('h1', null, 'Network'),
    h('div', { class: 'stats' },
      stat('Height', num(ctx.height), 'height'),
      stat('Block time', ctx.blockTime ? `${ctx.blockTime.toFixed(2)} s` : '—', 'block-time'),
      stat('Services', services.length, 'services'),
      stat('Operators', operators.length, 'operators'),
      stat('Committed stake', `${num(staked)} uavs`, 'staked')),
    panel(`Tasks created in the last ${WINDOW} blocks`,
      h('div', { class: 'stats' }, Object.entries(counts).map(([k, v]) => stat(k.toLowerCase(), num(v), `tasks-${k.toLowerCase()}`))),
      h('p', { class: 'note' }, `Counted over each service's ${PER_SERVICE} newest tasks.`)),
    h('div', { class: 'grid' },
      panel('Services', table(['#id', 'name', 'status', 'operators', 'fee per task'],
        services.map((s, i) => [String(s.id), serviceLink(s.id, s.manifest.name), badge(s.status, statusName(s.status) === 'ACTIVE' ? 'ok' : 'warn'),
          num(optedIn[i].length), coin(s.manifest.fee_per_task)]), 'no services yet')),
      panel('Operators', table(['operator', 'commission', 'address'],
        operators.map((o) => [operatorLink(o.address, o.moniker), percent(o.commission), h('span', { class: 'mono' }, o.address)]), 'no operators yet'))),
    panel('Latest tasks', h('div', { id: 'feed' }, table(['#task', 'service', 'status', 'input', 'result', '#created', '#blocks'],
      tasks.slice(0, 15).map((t) => [taskLink(t.id), serviceLink(t.service_id, names[t.service_id]), badge(t.status),
        h('span', { class: 'mono' }, bytesText(t.input, 24).text), resultCell(t), num(t.created_height),
        Number(t.ended_height) > 0 ? num(Number(t.ended_height) - Number(t.created_height)) : '—']), 'no tasks yet'))),
    h('p', { class: 'note' }, 'Committed stake is the sum of every (operator, service) pool.'));
}

function resultCell(t) {
  if (statusName(t.status) === 'FAILED') return h('span', { class: 'muted' }, `failure: ${statusName(t.failure)}`);
  return h('span', { class: 'mono' }, bytesText(t.result, 24).text);
}
