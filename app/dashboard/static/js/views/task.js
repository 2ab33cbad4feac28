// #/task/ID : one task: input and result, status, every vote grouped by
// digest against the quorum threshold, the handler, the origin.
import { avs } from '../api.js';
import { bars } from '../charts.js';
import { badge, bytesBlock, bytesText, coin, h, kv, num, operatorLink, panel, percent, serviceLink, short, statusName, table, time, UserError } from '../dom.js';

export async function load(arg) {
  if (!/^\d+$/.test(arg)) throw new UserError(`"${arg}" is not a task id (a whole number).`);
  const t = await avs.task(arg);
  const [votes, manifest, operators] = await Promise.all([
    avs.votes(arg),
    avs.revision(t.service_id, t.service_revision).catch(() => null),
    avs.serviceOperators(t.service_id),
  ]);
  const monikers = Object.fromEntries(operators.map((o) => [o.address, o.moniker]));
  const status = statusName(t.status);
  const threshold = manifest ? Number(manifest.quorum.threshold) * Number(t.power_total) : 0;

  // groups: the votes by digest (failure votes by reason); late votes are
  // kept as evidence and not tallied.
  const groups = new Map();
  for (const v of votes) {
    const key = v.digest === 'failure' ? `failure: ${statusName(v.failure)}` : v.digest;
    const g = groups.get(key) || { key, digest: v.digest, power: 0, count: 0, late: 0, result: v.result };
    if (v.late) g.late++;
    else {
      g.power += Number(v.power);
      g.count++;
    }
    groups.set(key, g);
  }
  const accepted = (g) => (status === 'COMPLETED' && g.digest === t.result_digest) ||
    (status === 'FAILED' && g.key === `failure: ${statusName(t.failure)}`);

  return h('div', null,
    h('h1', null, `Task ${t.id}`),
    h('div', { class: 'grid' },
      panel('Input', h('div', { id: 'input' }, bytesBlock(t.input))),
      panel('Result', h('div', { id: 'result' }, status === 'FAILED'
        ? h('p', { class: 'error', 'data-failure': statusName(t.failure) }, `The operators agreed the component fails on this input: ${statusName(t.failure)}.`)
        : bytesBlock(t.result, status === 'PENDING' ? '(not decided yet)' : '(none)')))),
    h('div', { class: 'grid' },
      panel('Task', kv([
        ['Status', badge(t.status)],
        ['Service', [serviceLink(t.service_id, manifest && manifest.name), ` revision ${t.service_revision}`]],
        ['Created', `height ${num(t.created_height)}, ${time(t.created_time)}`],
        ['Deadline', `height ${num(t.deadline_height)}`],
        Number(t.ended_height) > 0 ? ['Ended', `height ${num(t.ended_height)}: ${num(Number(t.ended_height) - Number(t.created_height))} block(s) after creation`] : null,
        ['Power for', `${num(t.power_for)} of ${num(t.power_total)}${manifest ? ` (threshold ${percent(manifest.quorum.threshold)}: ${num(Math.ceil(threshold))})` : ''}`],
        ['Fee', `${coin(t.fee)}${t.paid_by_treasury ? ' from the treasury' : ''}`],
        ['Creator', h('span', { class: 'mono' }, t.creator || '—')],
        ['Component', h('span', { class: 'mono', title: t.component_digest }, short(t.component_digest, 12))],
        ['Result digest', h('span', { class: 'mono' }, t.result_digest || '—')],
        ['Settled', t.settled ? 'yes (its deadline passed, liveness counted)' : 'no'],
      ])),
      panel('Handler and origin', kv([
        ['Handler', t.handler_contract
          ? [h('span', { class: 'mono' }, t.handler_contract), ` is called with sudo {"avs_task_result": …} when the task ends${t.handler_unpaid ? ' (deposit unpaid: an expiry is not reported)' : ''}.`]
          : 'none: no contract is told of this task\'s end'],
        t.handler_contract ? ['Handler deposit', coin(t.handler_deposit)] : null,
        ['Origin', originWords(t.origin)],
      ]))),
    panel('Votes by digest', groups.size
      ? bars([...groups.values()].map((g) => ({
        label: g.digest === 'failure' ? g.key : short(g.digest, 6), value: g.power, cls: g.digest === 'failure' ? 'failure' : accepted(g) ? 'accepted' : '',
        title: `${g.key}: ${g.count} vote(s), power ${g.power}${g.late ? `, ${g.late} late` : ''}`,
      })), { threshold, max: Number(t.power_total), width: 640 })
      : h('p', { class: 'muted' }, 'no votes yet'),
      h('p', { class: 'note' }, `The dashed line is the threshold (${manifest ? percent(manifest.quorum.threshold) : '?'} of the snapshot's ${num(t.power_total)}); green is the accepted result; late votes are not tallied.`),
      table(['operator', 'digest', 'result', '#power', '#height', 'late'],
        votes.map((v) => [operatorLink(v.operator, monikers[v.operator]),
          h('span', { class: 'mono', title: v.digest }, v.digest === 'failure' ? `failure: ${statusName(v.failure)}` : short(v.digest, 8)),
          h('span', { class: 'mono' }, bytesText(v.result, 40).text), num(v.power), num(v.height),
          v.late ? badge('late', 'warn') : 'no']), 'no votes yet')));
}

function originWords(o) {
  const kind = statusName(o && o.kind);
  if (kind === 'IBC') return ['over IBC: ', h('span', { class: 'mono' }, o.ref)];
  if (kind === 'TRIGGER') return `a trigger (${o.ref})`;
  return 'a transaction';
}
