// Reads the node's REST routes (grpc-gateway) from the dashboard's own origin.

// ApiError is a request the node refused or did not answer.
export class ApiError extends Error {
  constructor(path, status, message) {
    super(message);
    this.path = path;
    this.status = status; // 0: no answer
  }
}

// get fetches path and returns its JSON. height, when set, asks for the state
// at that height (the SDK's x-cosmos-block-height header).
export async function get(path, { height } = {}) {
  const headers = { Accept: 'application/json' };
  if (height) headers['x-cosmos-block-height'] = String(height);
  let resp;
  try {
    resp = await fetch(path, { headers, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(path, 0, `the node did not answer (${err.message})`);
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // a proxy's HTML error page, or an empty body
  }
  if (!resp.ok) {
    const msg = (body && body.message) || resp.statusText || 'error';
    throw new ApiError(path, resp.status, msg);
  }
  if (body === null) throw new ApiError(path, resp.status, 'the node answered with no JSON');
  return body;
}

// list follows next_key through at most maxPages pages of limit items and
// returns the items of field.
export async function list(path, field, { limit = 100, maxPages = 10, reverse = false } = {}) {
  const items = [];
  let key = '';
  for (let page = 0; page < maxPages; page++) {
    const q = new URLSearchParams({ 'pagination.limit': String(limit) });
    if (key) q.set('pagination.key', key);
    if (reverse) q.set('pagination.reverse', 'true');
    const sep = path.includes('?') ? '&' : '?';
    const body = await get(`${path}${sep}${q}`);
    items.push(...(body[field] || []));
    key = body.pagination && body.pagination.next_key;
    if (!key) break;
  }
  return items;
}

const AVS = '/avschain/avs/v1';

export const avs = {
  params: () => get(`${AVS}/params`).then((b) => b.params),
  services: () => list(`${AVS}/services`, 'services'),
  service: (id) => get(`${AVS}/services/${id}`).then((b) => b.service),
  revision: (id, rev) => get(`${AVS}/services/${id}/revisions/${rev}`).then((b) => b.manifest),
  serviceOperators: (id) => list(`${AVS}/services/${id}/operators`, 'operators'),
  power: (id) => get(`${AVS}/services/${id}/power?pagination.limit=200`),
  treasury: (id) => get(`${AVS}/services/${id}/treasury`).then((b) => b.treasury),
  // latestTasks is a service's newest n tasks, newest first.
  latestTasks: (id, n = 50) => list(`${AVS}/services/${id}/tasks`, 'tasks', { limit: n, maxPages: 1, reverse: true }),
  component: (digest) => get(`${AVS}/components/${digest}`).then((b) => b.component),
  operators: () => list(`${AVS}/operators`, 'operators'),
  operator: (addr) => get(`${AVS}/operators/${addr}?pagination.limit=200`),
  operatorCommitments: (addr) => get(`${AVS}/operators/${addr}/commitments?pagination.limit=500`),
  task: (id) => get(`${AVS}/tasks/${id}`).then((b) => b.task),
  votes: (id) => list(`${AVS}/tasks/${id}/votes`, 'votes', { limit: 200 }),
  commitments: (addr, height) => get(`${AVS}/commitments/${addr}?pagination.limit=500`, { height }).then((b) => b.commitments || []),
  unbonding: (addr) => list(`${AVS}/unbonding/${addr}`, 'unbonding'),
  rewards: (addr) => get(`${AVS}/rewards/${addr}?pagination.limit=500`),
};

const CMT = '/cosmos/base/tendermint/v1beta1';

export const chain = {
  latestBlock: () => get(`${CMT}/blocks/latest`),
  block: (h) => get(`${CMT}/blocks/${h}`),
  nodeInfo: () => get(`${CMT}/node_info`),
  nodeConfig: () => get('/cosmos/base/node/v1beta1/config'),
  // txs are the transactions whose events match a CometBFT query (the
  // node's tx index).
  txs: (query, limit = 100) => get(`/cosmos/tx/v1beta1/txs?${new URLSearchParams({ query, limit: String(limit), order_by: 'ORDER_BY_DESC' })}`),
};

// slashes are the EventOperatorSlashed of operator found in the node's tx
// index, newest first: {height, txhash, serviceId, taskId, fraction, amount}.
// A node without a tx index cannot answer: the list then carries the
// node's error as .unavailable.
export async function slashes(operator) {
  const type = 'avschain.avs.v1.EventOperatorSlashed';
  let body;
  try {
    body = await chain.txs(`${type}.operator='"${operator}"'`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 0) throw err;
    const none = [];
    none.unavailable = err.message;
    return none;
  }
  const out = [];
  for (const tx of body.tx_responses || []) {
    for (const ev of tx.events || []) {
      if (ev.type !== type) continue;
      const attr = {};
      for (const a of ev.attributes || []) {
        try {
          attr[a.key] = JSON.parse(a.value);
        } catch {
          attr[a.key] = a.value;
        }
      }
      if (attr.operator !== operator) continue;
      out.push({
        height: tx.height, txhash: tx.txhash, serviceId: String(attr.service_id),
        taskId: String(attr.task_id), fraction: attr.fraction, amount: attr.amount,
      });
    }
  }
  return out;
}
