//! avs-requester: asks an x/avs service for tasks and keeps their answers, so
//! that a user sees request → answer through the contract alone; and, when the
//! contract owns the service, governs it (a DAO's way to run a service).
//!
//! - instantiate `{"service_id":"1"}`; the sender becomes the contract's admin
//! - execute `{"request":{"input":"<base64>"}}` with exactly one coin, the task
//!   fee: sends MsgCreateTask{creator: this contract} as a submessage and learns
//!   the task id from its reply (MsgCreateTaskResponse)
//! - sudo `{"avs_task_result":{…}}` (x/avs, when this contract is the service's
//!   handler_contract) records the answer against the request
//! - execute `{"announce":{"data":"…"}}` (anyone, no funds) emits the event
//!   `wasm-avs_announce{_contract_address, service_id, sender, data}`: a
//!   service whose event trigger watches it answers from its treasury, and its
//!   handler contract gets the result
//! - execute `{"update_service":{"manifest":{…}}}` and
//!   `{"set_status":{"status":"paused"|"active"}}` (admin only) send
//!   MsgUpdateService / MsgSetServiceStatus as this contract, the owner
//! - query `{"request":{"id":"1"}}` → `{id, task_id, input, status, result}`,
//!   `{"requests":{"start_after":"1","limit":10}}`, `{"config":{}}`, and
//!   `{"task":{"task_id":"1"}}`, which reads the task from the chain through
//!   the stargate query /avschain.avs.v1.Query/Task

use avs_abi::{
    any_msg, base64_decode, base64_encode, legacy_dec, parse, parse_u64, proto_coin, proto_varints, run, run_query,
    run_with_info, stargate_query, storage, validate_address, Coin, Env, MessageInfo, Proto, ReplyOn, Response,
    SudoMsg,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const CONFIG_KEY: &[u8] = b"config";
const SEQ_KEY: &[u8] = b"seq";
const REQUEST_PREFIX: u8 = b'q';
const TASK_PREFIX: u8 = b't';
const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 100;
const MAX_ANNOUNCE_BYTES: usize = 1024;

const MSG_CREATE_TASK: &str = "/avschain.avs.v1.MsgCreateTask";
const MSG_CREATE_TASK_RESPONSE: &str = "/avschain.avs.v1.MsgCreateTaskResponse";
const MSG_UPDATE_SERVICE: &str = "/avschain.avs.v1.MsgUpdateService";
const MSG_SET_SERVICE_STATUS: &str = "/avschain.avs.v1.MsgSetServiceStatus";
const QUERY_TASK: &str = "/avschain.avs.v1.Query/Task";

#[derive(Serialize, Deserialize)]
struct Config {
    service_id: String,
    admin: String,
}

/// Request is one task asked for through the contract.
#[derive(Serialize, Deserialize)]
struct Request {
    id: String,
    /// Set by the reply to MsgCreateTask, in the same transaction.
    task_id: Option<String>,
    requester: String,
    input: String,
    fee: Coin,
    /// "pending" until x/avs calls back with "completed" or "expired".
    status: String,
    result: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstantiateMsg {
    service_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExecuteMsg {
    Request { input: String },
    Announce { data: String },
    UpdateService { manifest: Value },
    SetStatus { status: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum QueryMsg {
    Config {},
    Request { id: String },
    Requests {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Task { task_id: String },
}

fn key(prefix: u8, id: u64) -> Vec<u8> {
    let mut k = vec![prefix];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn config() -> Result<Config, String> {
    storage::load(CONFIG_KEY)?.ok_or_else(|| "not instantiated".to_string())
}

fn load_request(id: u64) -> Result<Request, String> {
    storage::load(&key(REQUEST_PREFIX, id))?.ok_or_else(|| format!("no request {id}"))
}

fn do_instantiate(_env: Env, info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    let msg: InstantiateMsg = parse("instantiate", msg)?;
    let service_id = parse_u64("service_id", &msg.service_id)?;
    if service_id == 0 {
        return Err("service_id must be positive".to_string());
    }
    storage::save(CONFIG_KEY, &Config { service_id: service_id.to_string(), admin: info.sender.clone() })?;
    Ok(Response::new().attr("action", "instantiate").attr("service_id", service_id).attr("admin", info.sender))
}

fn do_execute(env: Env, info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    let cfg = config()?;
    let service_id = parse_u64("service_id", &cfg.service_id)?;
    let me = env.contract.address;
    match parse("execute", msg)? {
        ExecuteMsg::Request { input } => {
            let input_bytes = base64_decode(&input).map_err(|e| format!("input: {e}"))?;
            let fee = match info.funds.as_slice() {
                [coin] => coin.clone(),
                funds => return Err(format!("send exactly one coin with a request, the task fee (got {})", funds.len())),
            };
            let id = storage::load::<u64>(SEQ_KEY)?.unwrap_or(0) + 1;
            storage::save(SEQ_KEY, &id)?;
            let req = Request {
                id: id.to_string(),
                task_id: None,
                requester: info.sender,
                input,
                fee: fee.clone(),
                status: "pending".to_string(),
                result: None,
            };
            storage::save(&key(REQUEST_PREFIX, id), &req)?;
            // MsgCreateTask{creator = 1, service_id = 2, input = 3, fee = 4}
            let create = Proto::new()
                .string(1, &me)
                .uint(2, service_id)
                .bytes(3, &input_bytes)
                .message(4, proto_coin(&fee))
                .into_bytes();
            // The submessage id is the request id; the reply carries the task id.
            Ok(Response::new()
                .submessage(id, any_msg(MSG_CREATE_TASK, &create), ReplyOn::Success)
                .attr("action", "request")
                .attr("request_id", id)
                .attr("service_id", service_id))
        }
        ExecuteMsg::Announce { data } => {
            if !info.funds.is_empty() {
                return Err("announce takes no funds: the service's treasury pays event-triggered tasks".to_string());
            }
            if data.len() > MAX_ANNOUNCE_BYTES {
                return Err(format!("announce data is {} bytes, at most {MAX_ANNOUNCE_BYTES}", data.len()));
            }
            let sid = service_id.to_string();
            Ok(Response::new().attr("action", "announce").event(
                "avs_announce",
                &[("service_id", sid.as_str()), ("sender", info.sender.as_str()), ("data", data.as_str())],
            ))
        }
        ExecuteMsg::UpdateService { manifest } => {
            only_admin(&cfg, &info)?;
            // MsgUpdateService{owner = 1, service_id = 2, manifest = 3}
            let m = Proto::new().string(1, &me).uint(2, service_id).message(3, manifest_proto(&manifest)?).into_bytes();
            Ok(Response::new().message(any_msg(MSG_UPDATE_SERVICE, &m)).attr("action", "update_service").attr("service_id", service_id))
        }
        ExecuteMsg::SetStatus { status } => {
            only_admin(&cfg, &info)?;
            let code = match status.as_str() {
                "active" | "SERVICE_STATUS_ACTIVE" => 0,
                "paused" | "SERVICE_STATUS_PAUSED" => 1,
                s => return Err(format!("status must be \"active\" or \"paused\", got {s:?}")),
            };
            // MsgSetServiceStatus{owner = 1, service_id = 2, status = 3}
            let m = Proto::new().string(1, &me).uint(2, service_id).uint(3, code).into_bytes();
            Ok(Response::new()
                .message(any_msg(MSG_SET_SERVICE_STATUS, &m))
                .attr("action", "set_status")
                .attr("service_id", service_id)
                .attr("status", status))
        }
    }
}

fn only_admin(cfg: &Config, info: &MessageInfo) -> Result<(), String> {
    if info.sender != cfg.admin {
        return Err(format!("unauthorized: only the admin {} may govern the service", cfg.admin));
    }
    Ok(())
}

/// reply to the MsgCreateTask submessage: its id is the request id, its
/// result carries MsgCreateTaskResponse{task_id = 1, deadline_height = 2}.
fn do_reply(_env: Env, msg: &[u8]) -> Result<Response, String> {
    let reply: Value = parse("reply", msg)?;
    let id = reply.get("id").and_then(Value::as_u64).ok_or("reply without id")?;
    let ok = reply.get("result").and_then(|r| r.get("ok")).ok_or("reply without a successful result")?;
    // CosmWasm 2: msg_responses holds the typed responses; data (deprecated) the first one's bytes.
    let from_responses = ok.get("msg_responses").and_then(Value::as_array).and_then(|rs| {
        rs.iter().find(|r| r.get("type_url").and_then(Value::as_str) == Some(MSG_CREATE_TASK_RESPONSE))
            .and_then(|r| r.get("value").and_then(Value::as_str))
    });
    let encoded = from_responses.or_else(|| ok.get("data").and_then(Value::as_str)).ok_or("reply carries no MsgCreateTaskResponse")?;
    let fields = proto_varints(&base64_decode(encoded)?)?;
    let task_id = fields.iter().find(|(f, _)| *f == 1).map(|(_, v)| *v).ok_or("MsgCreateTaskResponse without task_id")?;
    let deadline = fields.iter().find(|(f, _)| *f == 2).map(|(_, v)| *v as i64).unwrap_or(0);

    let mut req = load_request(id)?;
    req.task_id = Some(task_id.to_string());
    storage::save(&key(REQUEST_PREFIX, id), &req)?;
    storage::save(&key(TASK_PREFIX, task_id), &id)?;
    let data = json!({"request_id": id.to_string(), "task_id": task_id.to_string()});
    let mut res = Response::new()
        .attr("action", "task_created")
        .attr("request_id", id)
        .attr("task_id", task_id)
        .attr("deadline_height", deadline);
    res.data = Some(base64_encode(&serde_json::to_vec(&data).map_err(|e| e.to_string())?));
    Ok(res)
}

fn do_sudo(_env: Env, msg: &[u8]) -> Result<Response, String> {
    let SudoMsg::AvsTaskResult(r) = parse("sudo", msg)?;
    let task_id = parse_u64("task_id", &r.task_id)?;
    let id = match storage::load::<u64>(&key(TASK_PREFIX, task_id))? {
        Some(id) => id,
        // A task someone else asked the service for: nothing to record.
        None => return Ok(Response::new().attr("action", "avs_task_result").attr("task_id", task_id).attr("request_id", "none")),
    };
    let mut req = load_request(id)?;
    req.status = r.status;
    req.result = r.result;
    storage::save(&key(REQUEST_PREFIX, id), &req)?;
    Ok(Response::new()
        .attr("action", "avs_task_result")
        .attr("task_id", task_id)
        .attr("request_id", id)
        .attr("status", &req.status))
}

fn request_view(r: Request) -> Value {
    json!({"id": r.id, "task_id": r.task_id, "requester": r.requester, "input": r.input,
           "fee": r.fee, "status": r.status, "result": r.result})
}

fn do_query(_env: Env, msg: &[u8]) -> Result<Value, String> {
    match parse("query", msg)? {
        QueryMsg::Config {} => serde_json::to_value(config()?).map_err(|e| e.to_string()),
        QueryMsg::Request { id } => Ok(request_view(load_request(parse_u64("id", &id)?)?)),
        QueryMsg::Requests { start_after, limit } => {
            let start = match start_after {
                Some(s) => match parse_u64("start_after", &s)?.checked_add(1) {
                    Some(next) => key(REQUEST_PREFIX, next),
                    None => return Ok(json!({ "requests": [] })),
                },
                None => vec![REQUEST_PREFIX],
            };
            let limit = limit.map(|l| l as usize).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
            let mut out = Vec::new();
            for (_, v) in storage::range(&start, &[REQUEST_PREFIX + 1], limit) {
                let r: Request = serde_json::from_slice(&v).map_err(|e| format!("corrupt state: {e}"))?;
                out.push(request_view(r));
            }
            Ok(json!({ "requests": out }))
        }
        QueryMsg::Task { task_id } => {
            // QueryTaskRequest{task_id = 1}; the answer is QueryTaskResponse as JSON.
            let req = Proto::new().uint(1, parse_u64("task_id", &task_id)?).into_bytes();
            let answer = stargate_query(QUERY_TASK, &req)?;
            serde_json::from_slice(&answer).map_err(|e| format!("task query answer: {e}"))
        }
    }
}

// ------------------------------------------------ ServiceManifest JSON → protobuf

/// Reads one JSON object, refusing keys it does not know.
struct Obj<'a> {
    what: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(what: &'a str, v: &'a Value, allowed: &[&str]) -> Result<Self, String> {
        let map = v.as_object().ok_or_else(|| format!("{what} must be an object"))?;
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("{what}: unknown field {k:?}"));
        }
        Ok(Obj { what, map })
    }

    fn get(&self, k: &str) -> Option<&'a Value> {
        self.map.get(k).filter(|v| !v.is_null())
    }

    fn str(&self, k: &str) -> Result<&'a str, String> {
        match self.get(k) {
            None => Ok(""),
            Some(v) => v.as_str().ok_or_else(|| format!("{}.{k} must be a string", self.what)),
        }
    }

    /// A uint64 as a string ("20", proto JSON) or a number.
    fn uint(&self, k: &str) -> Result<u64, String> {
        match self.get(k) {
            None => Ok(0),
            Some(Value::String(s)) => parse_u64(&format!("{}.{k}", self.what), s),
            Some(v) => v.as_u64().ok_or_else(|| format!("{}.{k} must be an unsigned integer", self.what)),
        }
    }

    /// An enum by name, or by number.
    fn enumeration(&self, k: &str, names: &[&str]) -> Result<u64, String> {
        match self.get(k) {
            None => Ok(0),
            Some(Value::String(s)) => names
                .iter()
                .position(|n| n == s)
                .map(|i| i as u64)
                .ok_or_else(|| format!("{}.{k}: unknown value {s:?} (one of {names:?})", self.what)),
            Some(v) => v.as_u64().ok_or_else(|| format!("{}.{k} must be one of {names:?}", self.what)),
        }
    }

    /// A LegacyDec string; absent stays absent.
    fn dec(&self, p: Proto, field: u32, k: &str) -> Result<Proto, String> {
        match self.get(k) {
            None => Ok(p),
            Some(v) => {
                let s = v.as_str().ok_or_else(|| format!("{}.{k} must be a decimal string", self.what))?;
                let d = legacy_dec(s).map_err(|e| format!("{}.{k}: {e}", self.what))?;
                Ok(p.string(field, &d))
            }
        }
    }

    fn list(&self, k: &str) -> Result<&'a [Value], String> {
        match self.get(k) {
            None => Ok(&[]),
            Some(v) => v.as_array().map(Vec::as_slice).ok_or_else(|| format!("{}.{k} must be a list", self.what)),
        }
    }
}

/// avschain.avs.v1.ServiceManifest from its JSON form (as in
/// `avsd tx avs create-service manifest.json`).
fn manifest_proto(v: &Value) -> Result<Proto, String> {
    let m = Obj::new(
        "manifest",
        v,
        &[
            "name", "component_digest", "config", "limits", "quorum", "aggregation", "task_timeout", "fee_per_task",
            "admission", "handler_contract", "slash_fraction", "ibc_request_channels", "ibc_result_channels", "triggers",
            "min_self_stake", "vote_mode", "commit_blocks",
        ],
    )?;
    let mut p = Proto::new().string(1, m.str("name")?).string(2, m.str("component_digest")?);
    for e in m.list("config")? {
        let c = Obj::new("manifest.config[]", e, &["key", "value"])?;
        p = p.message(3, Proto::new().string(1, c.str("key")?).string(2, c.str("value")?));
    }
    let empty = json!({});
    let l = Obj::new("limits", m.get("limits").unwrap_or(&empty), &["time_ms", "memory_pages", "output_bytes", "http_allow_list"])?;
    let mut limits = Proto::new().uint(1, l.uint("time_ms")?).uint(2, l.uint("memory_pages")?).uint(3, l.uint("output_bytes")?);
    for h in l.list("http_allow_list")? {
        limits = limits.string(4, h.as_str().ok_or("limits.http_allow_list entries must be strings")?);
    }
    p = p.message(4, limits);
    let q = Obj::new("quorum", m.get("quorum").unwrap_or(&empty), &["threshold", "weighting", "min_operators"])?;
    let quorum = q.dec(Proto::new(), 1, "threshold")?;
    p = p.message(
        5,
        quorum.uint(2, q.enumeration("weighting", &["WEIGHTING_EQUAL", "WEIGHTING_STAKE"])?).uint(3, q.uint("min_operators")?),
    );
    let a = Obj::new("aggregation", m.get("aggregation").unwrap_or(&empty), &["mode", "allowed_spread", "slashable_spread"])?;
    let agg = Proto::new().uint(1, a.enumeration("mode", &["AGGREGATION_MODE_EXACT", "AGGREGATION_MODE_MEDIAN"])?);
    p = p.message(6, a.dec(a.dec(agg, 2, "allowed_spread")?, 3, "slashable_spread")?);
    p = p.uint(7, m.uint("task_timeout")?);
    let f = Obj::new("fee_per_task", m.get("fee_per_task").unwrap_or(&empty), &["denom", "amount"])?;
    p = p.message(8, proto_coin(&Coin { denom: f.str("denom")?.to_string(), amount: f.str("amount")?.to_string() }));
    p = p.uint(9, m.enumeration("admission", &["ADMISSION_OPEN", "ADMISSION_ALLOWLIST"])?);
    let handler = m.str("handler_contract")?;
    if !handler.is_empty() {
        validate_address(handler)?;
    }
    p = p.string(10, handler);
    p = m.dec(p, 11, "slash_fraction")?;
    for (field, k) in [(12, "ibc_request_channels"), (13, "ibc_result_channels")] {
        for c in m.list(k)? {
            p = p.string(field, c.as_str().ok_or_else(|| format!("manifest.{k} entries must be strings"))?);
        }
    }
    for t in m.list("triggers")? {
        p = p.message(14, trigger_proto(t)?);
    }
    // a cosmos.Int: the operators' least self-commitment (H-6)
    let min_self = m.str("min_self_stake")?;
    if !min_self.is_empty() {
        if !min_self.bytes().all(|b| b.is_ascii_digit()) {
            return Err("manifest.min_self_stake must be a non-negative integer string".to_string());
        }
        p = p.string(15, min_self);
    }
    // how operators vote (issue #20): in the clear, or commit then reveal
    p = p.uint(16, m.enumeration("vote_mode", &["VOTE_MODE_OPEN", "VOTE_MODE_COMMIT_REVEAL"])?);
    p = p.uint(17, m.uint("commit_blocks")?);
    Ok(p)
}

/// avschain.avs.v1.Trigger: one of block_interval, cron or event.
fn trigger_proto(v: &Value) -> Result<Proto, String> {
    let t = Obj::new("manifest.triggers[]", v, &["block_interval", "cron", "event"])?;
    if let Some(b) = t.get("block_interval") {
        let b = Obj::new("block_interval", b, &["every", "start", "end"])?;
        return Ok(Proto::new().message(1, Proto::new().uint(1, b.uint("every")?).uint(2, b.uint("start")?).uint(3, b.uint("end")?)));
    }
    if let Some(c) = t.get("cron") {
        let c = Obj::new("cron", c, &["schedule"])?;
        return Ok(Proto::new().message(2, Proto::new().string(1, c.str("schedule")?)));
    }
    if let Some(e) = t.get("event") {
        let e = Obj::new("event", e, &["type", "attributes"])?;
        let mut ev = Proto::new().string(1, e.str("type")?);
        for a in e.list("attributes")? {
            let a = Obj::new("event.attributes[]", a, &["key", "value"])?;
            ev = ev.message(2, Proto::new().string(1, a.str("key")?).string(2, a.str("value")?));
        }
        return Ok(Proto::new().message(3, ev));
    }
    Err("manifest.triggers[]: one of block_interval, cron or event".to_string())
}

#[no_mangle]
pub extern "C" fn instantiate(env: u32, info: u32, msg: u32) -> u32 {
    run_with_info(env, info, msg, do_instantiate)
}

#[no_mangle]
pub extern "C" fn execute(env: u32, info: u32, msg: u32) -> u32 {
    run_with_info(env, info, msg, do_execute)
}

#[no_mangle]
pub extern "C" fn reply(env: u32, msg: u32) -> u32 {
    run(env, msg, do_reply)
}

#[no_mangle]
pub extern "C" fn sudo(env: u32, msg: u32) -> u32 {
    run(env, msg, do_sudo)
}

#[no_mangle]
pub extern "C" fn query(env: u32, msg: u32) -> u32 {
    run_query(env, msg, do_query)
}
