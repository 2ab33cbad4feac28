// #/commitments/ADDR : a committer's commitments, pending rewards, unbonding
// entries and the slashes that touched them, with the `avsd tx avs` command
// for each action.
import { avs, slashes } from '../api.js';
import { line } from '../charts.js';
import { addressError, coin, copyable, h, num, operatorLink, panel, percent, serviceLink, stat, table, time, UserError } from '../dom.js';

// The value chart samples every STEP blocks over the last POINTS samples.
const STEP = 5;
const POINTS = 12;
// history caches the committer's total value at past heights (they do not change).
const history = { addr: '', values: new Map() };

function form(value = '') {
  return h('form', { class: 'inline', 'data-goto': '#/commitments/', id: 'commitments-form' },
    h('input', { name: 'address', placeholder: 'avs1… (your address)', value, 'aria-label': 'Committer address', spellcheck: 'false' }),
    h('button', { type: 'submit' }, 'Show'));
}

export async function load(arg, ctx) {
  if (!arg) {
    return h('div', null, h('h1', null, 'My commitments'),
      panel('Enter or paste an address', form(), h('p', { class: 'note' }, 'Every commitment of the address, by operator and service, with its pending rewards and unbonding.')));
  }
  const bad = addressError(arg);
  if (bad) throw new UserError(`"${arg}" is not an avschain address: it ${bad}.`);

  const [commitments, unbonding, rewards, operators, services] = await Promise.all([
    avs.commitments(arg), avs.unbonding(arg), avs.rewards(arg), avs.operators(), avs.services(),
  ]);
  const monikers = Object.fromEntries(operators.map((o) => [o.address, o.moniker]));
  const names = Object.fromEntries(services.map((s) => [s.id, s.manifest.name]));
  const ops = [...new Set([...commitments.map((c) => c.commitment.operator), ...unbonding.map((u) => u.operator)])];
  const touched = new Set([...commitments.map((c) => `${c.commitment.operator}/${c.commitment.service_id}`), ...unbonding.map((u) => `${u.operator}/${u.service_id}`)]);
  const slashLists = await Promise.all(ops.map((o) => slashes(o).then((l) => l.map((s) => ({ ...s, operator: o })))));
  const unavailable = slashLists.find((l) => l.unavailable)?.unavailable;
  const slashed = slashLists.flat().filter((s) => touched.has(`${s.operator}/${s.serviceId}`)).sort((a, b) => Number(b.height) - Number(a.height));

  const total = commitments.reduce((a, c) => a + BigInt(c.value.amount || '0'), 0n);
  const points = await valueHistory(arg, ctx.height, total);

  const flags = txFlags(arg, ctx);
  return h('div', null,
    h('h1', null, 'My commitments'),
    panel(null, form(arg), h('p', { class: 'mono', id: 'committer' }, arg)),
    h('div', { class: 'stats' },
      stat('Committed value', `${num(total)} uavs`, 'value'),
      stat('Pending rewards', coin(rewards.rewards), 'rewards'),
      Number(rewards.operator_rewards?.amount) > 0 ? stat('Operator rewards', coin(rewards.operator_rewards), 'operator-rewards') : null,
      stat('Unbonding entries', num(unbonding.length), 'unbonding')),
    panel('Commitments', table(['operator', 'service', '#value', '#shares', '#pending rewards', 'commands'],
      commitments.map(({ commitment: c, pending_rewards: r, value: v }) => [
        operatorLink(c.operator, monikers[c.operator]), serviceLink(c.service_id, names[c.service_id]),
        `${num(v.amount)} ${v.denom}`, num(c.shares), coin(r),
        h('div', null,
          h('div', { class: 'note' }, 'commit more'), copyable(`avsd tx avs commit ${c.operator} ${c.service_id} 1000000uavs ${flags}`),
          h('div', { class: 'note' }, 'uncommit (all of it)'), copyable(`avsd tx avs uncommit ${c.operator} ${c.service_id} ${v.amount}${v.denom} ${flags}`)),
      ]), 'no commitments'),
    commitments.length || Number(rewards.rewards?.amount) > 0
      ? h('div', null, h('div', { class: 'note' }, 'withdraw every pending reward'), copyable(`avsd tx avs withdraw-rewards ${flags}`))
      : null),
    panel(`Value over the last ${STEP * (POINTS - 1)} blocks (uavs)`, line(points, { xLabel: 'height' })),
    panel('Unbonding', table(['#id', 'operator', 'service', '#amount', 'released at'],
      unbonding.map((u) => [num(u.id), operatorLink(u.operator, monikers[u.operator]), serviceLink(u.service_id, names[u.service_id]), `${num(u.amount)} uavs`, time(u.completion_time)]),
      'nothing unbonding')),
    panel('Slashes of its pools', table(['height', 'operator', 'service', 'task', 'fraction', 'amount'],
      slashed.map((s) => [num(s.height), operatorLink(s.operator, monikers[s.operator]), serviceLink(s.serviceId, names[s.serviceId]),
        h('a', { href: `#/task/${s.taskId}` }, `#${s.taskId}`), percent(s.fraction), coin(s.amount)]), 'none'),
      h('p', { class: 'note' }, unavailable
        ? `Not available: the node's transaction index did not answer (${unavailable}).`
        : "From the node's transaction index: the slashes of the operators it backs, in the services it backs them in.")));
}

// txFlags are the flags every command needs to reach this node and pay its
// minimum gas price.
function txFlags(addr, ctx) {
  const f = [`--from ${addr}`, `--chain-id ${ctx.chainId}`];
  if (ctx.rpc) f.push(`--node ${ctx.rpc}`);
  f.push('--gas auto --gas-adjustment 1.5');
  if (ctx.gasPrices) f.push(`--gas-prices ${ctx.gasPrices}`);
  return f.join(' ');
}

// valueHistory is the committer's total value every STEP blocks up to now,
// read at past heights (x-cosmos-block-height), and now.
async function valueHistory(addr, height, now) {
  if (history.addr !== addr) {
    history.addr = addr;
    history.values = new Map();
  }
  const last = height - (height % STEP);
  const want = [];
  for (let k = POINTS - 1; k >= 0; k--) {
    const hgt = last - k * STEP;
    if (hgt >= 1 && hgt < height) want.push(hgt);
  }
  await Promise.all(want.filter((x) => !history.values.has(x)).map(async (x) => {
    try {
      const cs = await avs.commitments(addr, x);
      history.values.set(x, cs.reduce((a, c) => a + BigInt(c.value.amount || '0'), 0n));
    } catch {
      history.values.set(x, null); // pruned on this node: no point
    }
  }));
  for (const k of history.values.keys()) if (!want.includes(k)) history.values.delete(k);
  const past = want.filter((x) => history.values.get(x) !== null).map((x) => ({ x, y: Number(history.values.get(x)) }));
  return [...past, { x: height, y: Number(now) }];
}
