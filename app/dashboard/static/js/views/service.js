// #/service/ID : a service's manifest in words, its operators' power, its tasks.
import { avs } from '../api.js';
import { bars, line } from '../charts.js';
import { badge, bytesText, coin, dec, h, kv, num, operatorLink, panel, percent, short, statusName, table, taskLink, time, UserError } from '../dom.js';

const TASKS = 50;

export async function load(arg) {
  if (!/^\d+$/.test(arg)) throw new UserError(`"${arg}" is not a service id (a whole number).`);
  const svc = await avs.service(arg);
  const m = svc.manifest;
  const [component, operators, power, treasury, tasks] = await Promise.all([
    avs.component(m.component_digest).catch(() => null),
    avs.serviceOperators(arg),
    avs.power(arg),
    avs.treasury(arg),
    avs.latestTasks(arg, TASKS),
  ]);
  const monikers = Object.fromEntries(operators.map((o) => [o.address, o.moniker]));
  const snap = power.snapshot && power.snapshot.powers && power.snapshot.powers.length ? power.snapshot : null;
  const rows = (snap ? snap.powers : power.current || []).map((p) => ({
    label: monikers[p.operator] || short(p.operator, 8), value: Number(p.power), title: `${p.operator}: power ${p.power}`,
  }));
  const ended = tasks.filter((t) => Number(t.ended_height) > 0).reverse();

  return h('div', null,
    h('h1', null, `Service ${svc.id}: ${m.name}`),
    h('div', { class: 'grid' },
      panel('What it does', manifestWords(svc, component, treasury)),
      panel(snap ? `Operators' power (snapshot of epoch ${power.snapshot.epoch})` : "Operators' power (now; no snapshot yet this epoch)",
        rows.length ? bars(rows, { width: 560 }) : h('p', { class: 'muted' }, 'no operators opted in'),
        table(['operator', 'address', 'commission'], operators.map((o) => [operatorLink(o.address, o.moniker), h('span', { class: 'mono' }, o.address), percent(o.commission)]), 'no operators'))),
    h('div', { class: 'grid' },
      panel('Completion latency (blocks) by task', line(ended.map((t) => ({ x: Number(t.id), y: Number(t.ended_height) - Number(t.created_height) })), { xLabel: 'task' })),
      panel('Fee (uavs) by task', line(tasks.slice().reverse().map((t) => ({ x: Number(t.id), y: Number(t.fee.amount) })), { xLabel: 'task', alt: true }))),
    panel(`Tasks (newest ${TASKS})`, table(['#task', 'status', 'input', 'result', 'fee', '#created', '#blocks to complete'],
      tasks.map((t) => [taskLink(t.id), badge(t.status), h('span', { class: 'mono' }, bytesText(t.input, 40).text),
        statusName(t.status) === 'FAILED' ? h('span', { class: 'muted' }, `failure: ${statusName(t.failure)}`) : h('span', { class: 'mono' }, bytesText(t.result, 40).text),
        coin(t.fee), num(t.created_height), Number(t.ended_height) > 0 ? num(Number(t.ended_height) - Number(t.created_height)) : '—']), 'no tasks yet')));
}

function manifestWords(svc, component, treasury) {
  const m = svc.manifest;
  const q = m.quorum;
  const agg = m.aggregation;
  const l = m.limits;
  const weighting = statusName(q.weighting) === 'STAKE' ? 'the stake committed to them' : 'one vote each (EQUAL weighting)';
  const accept = statusName(agg.mode) === 'MEDIAN'
    ? `numeric results are combined into their power-weighted median, accepted once operators within ${percent(agg.allowed_spread)} of it hold ${percent(q.threshold)} of the task's snapshot power`
    : `a result is accepted when operators holding ${percent(q.threshold)} of the task's snapshot power return byte-identical results`;
  const items = [
    h('li', null, 'Runs component ', h('span', { class: 'mono', title: m.component_digest }, short(m.component_digest, 12)),
      component ? ` (${num(component.code_size)} bytes, stored ${num(component.stored_size)})` : ''),
    h('li', null, `Operators are weighted by ${weighting}; ${accept}`, Number(q.min_operators) ? `, from at least ${q.min_operators} operators.` : '.'),
    h('li', null, `Each run may take ${num(l.time_ms)} ms, ${num(l.memory_pages)} pages (${num(l.memory_pages * 64)} KiB) of memory and write ${num(l.output_bytes)} bytes`,
      l.http_allow_list && l.http_allow_list.length ? `; http_fetch may reach ${l.http_allow_list.join(', ')}.` : '; no HTTP.'),
    h('li', null, `A task costs at least ${coin(m.fee_per_task)} and stays open ${Number(m.task_timeout) ? `${m.task_timeout} blocks` : "the module's default timeout"}.`),
    h('li', null, Number(m.slash_fraction) > 0 ? `A vote against the accepted result costs its operator ${percent(m.slash_fraction)} of its backing.` : 'Votes against the result are not slashed.'),
    h('li', null, statusName(m.admission) === 'ALLOWLIST' ? 'Only operators on the owner\'s allow-list may opt in.' : 'Any registered operator may opt in.'),
    h('li', null, m.triggers && m.triggers.length ? `Triggers: ${m.triggers.map(triggerWords).join('; ')}.` : 'No triggers: tasks come from transactions, contracts or IBC.'),
    h('li', null, m.handler_contract ? ['Tells contract ', h('span', { class: 'mono' }, m.handler_contract), ' of each task\'s end.'] : 'No handler contract.'),
    m.ibc_request_channels && m.ibc_request_channels.length ? h('li', null, `Takes requests over IBC on ${m.ibc_request_channels.join(', ')}.`) : null,
    m.ibc_result_channels && m.ibc_result_channels.length ? h('li', null, `Pushes each result over IBC to ${m.ibc_result_channels.join(', ')}.`) : null,
    m.config && m.config.length ? h('li', null, `Config: ${m.config.map((c) => `${c.key}=${c.value}`).join(', ')}.`) : null,
  ];
  return h('div', null, h('ul', { class: 'words' }, items),
    kv([
      ['Status', badge(svc.status, statusName(svc.status) === 'ACTIVE' ? 'ok' : 'warn')],
      ['Owner', h('span', { class: 'mono' }, svc.owner)],
      ['Treasury', coin(treasury)],
      ['Revision', `${svc.revision} (created at ${num(svc.created_height)}, updated at ${num(svc.updated_height)})`],
      Number(dec(svc.pending_slash_fraction)) > 0 ? ['Pending slash fraction', `${percent(svc.pending_slash_fraction)} from ${time(svc.pending_slash_at)}`] : null,
    ]));
}

function triggerWords(t) {
  if (t.block_interval) return `every ${t.block_interval.every} blocks from ${t.block_interval.start}${Number(t.block_interval.end) ? ` to ${t.block_interval.end}` : ''}`;
  if (t.cron) return `cron "${t.cron.schedule}"`;
  if (t.event) return `on event ${t.event.type}${(t.event.attributes || []).map((a) => ` ${a.key}=${a.value}`).join('')}`;
  return 'unknown trigger';
}
