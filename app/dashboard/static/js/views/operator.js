// #/operator/ADDR : an operator: commission, services with liveness and
// jail, its recent votes, the slashes in the tx index, its pools.
import { avs, slashes } from '../api.js';
import { addressError, badge, coin, h, kv, num, panel, percent, serviceLink, short, statusName, table, taskLink, time, UserError } from '../dom.js';

// RECENT is how many of each of its services' newest tasks are searched for
// the operator's votes.
const RECENT = 10;

export async function load(arg) {
  const bad = addressError(arg);
  if (bad) throw new UserError(`"${arg}" is not an avschain address: it ${bad}.`);
  const res = await avs.operator(arg);
  const op = res.operator;
  const ids = res.service_ids || [];
  const [oc, services, recent, slashed] = await Promise.all([
    avs.operatorCommitments(arg),
    Promise.all(ids.map((id) => avs.service(id))),
    Promise.all(ids.map((id) => avs.latestTasks(id, RECENT))),
    slashes(arg),
  ]);
  const tasks = recent.flat();
  const votesByTask = await Promise.all(tasks.map((t) => avs.votes(t.id)));
  const votes = [];
  tasks.forEach((t, i) => {
    const v = votesByTask[i].find((x) => x.operator === arg);
    votes.push({ t, v });
  });
  votes.sort((a, b) => Number(b.t.id) - Number(a.t.id));
  const names = Object.fromEntries(services.map((s) => [s.id, s.manifest.name]));
  const committers = {};
  for (const c of oc.commitments || []) committers[c.service_id] = (committers[c.service_id] || 0) + 1;

  return h('div', null,
    h('h1', null, `Operator ${op.moniker || short(op.address)}`),
    panel(null, kv([
      ['Address', h('span', { class: 'mono' }, op.address)],
      ['Moniker', op.moniker || '—'],
      ['Commission', percent(op.commission)],
      !op.pending_commission_at.startsWith('0001') ? ['Pending commission', `${percent(op.pending_commission)} from ${time(op.pending_commission_at)}`] : null,
      ['Registered at', `height ${num(op.registered_height)}`],
    ])),
    panel('Services and liveness', table(['service', 'missed in window', '#missed in all', 'jailed', 'jailed until'],
      ids.map((id, i) => {
        const l = (res.liveness || [])[i] || {};
        return [serviceLink(id, names[id]), `${num(l.window_missed)} of ${num(l.window_tasks)}`, num(l.missed),
          l.jailed ? badge('jailed', 'bad') : badge('no', 'ok'), l.jailed ? time(l.jailed_until) : '—'];
      }), 'not opted in to any service')),
    panel('Pools (stake committed to it, by service)', table(['service', '#total', '#committers', '#outstanding rewards'],
      (oc.pools || []).map((p) => [serviceLink(p.service_id, names[p.service_id]), `${num(p.total)} uavs`, num(committers[p.service_id] || 0), `${num(p.outstanding)} uavs`]),
      'nothing committed to it')),
    panel(`Votes on its services' newest ${RECENT} tasks`, table(['task', 'service', 'task status', 'its vote', '#power', 'late'],
      votes.map(({ t, v }) => [taskLink(t.id), serviceLink(t.service_id, names[t.service_id]), badge(t.status),
        v ? h('span', { class: 'mono', title: v.digest }, v.digest === 'failure' ? `failure: ${statusName(v.failure)}` : (v.digest === t.result_digest ? 'the accepted result' : short(v.digest, 8)))
          : h('span', { class: 'muted' }, 'no vote'),
        v ? num(v.power) : '—', v && v.late ? badge('late', 'warn') : '']), 'no tasks')),
    panel('Slashes', table(['height', 'service', 'task', 'fraction', 'amount'],
      slashed.map((s) => [num(s.height), serviceLink(s.serviceId, names[s.serviceId]), taskLink(s.taskId), percent(s.fraction), coin(s.amount)]), 'none'),
      h('p', { class: 'note' }, slashed.unavailable
        ? `Not available: the node's transaction index did not answer (${slashed.unavailable}).`
        : "From the node's transaction index (slashes applied in a vote transaction).")));
}
