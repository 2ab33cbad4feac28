//! avs-handler: a service's handler contract that keeps every result x/avs
//! sends it.
//!
//! - instantiate `{}`
//! - sudo `{"avs_task_result":{"task_id":"1","service_id":"1","status":"completed","input":"…","result":"…"}}`
//!   (from x/avs when a task completes or expires) stores the outcome by task id
//! - query `{"result":{"task_id":"1"}}` → `{"task_id":"1","service_id":"1","status":"completed","result":"<base64>"}`
//! - query `{"results":{"start_after":"1","limit":10}}` (both optional) → `{"results":[…]}`, by task id
//! - execute `{"avs_result":{"id":"1","status":"completed",…}}` (the callback
//!   of avs-ibc-client, from any sender) stores the result under the sender
//!   and its request id
//! - query `{"callbacks":{"limit":10}}` → `{"callbacks":[{"sender":…,"result":{…}}]}`,
//!   by sender then request id

use avs_abi::{parse, parse_u64, run, run_query, run_with_info, storage, Env, MessageInfo, Response, SudoMsg};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const RESULT_PREFIX: u8 = b'r';
const CALLBACK_PREFIX: u8 = b'c';
const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum QueryMsg {
    Result { task_id: String },
    Callbacks {
        #[serde(default)]
        limit: Option<u32>,
    },
    Results {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExecuteMsg {
    /// avs-ibc-client's callback: one record of its, as it stands.
    AvsResult(serde_json::Map<String, Value>),
}

#[derive(Serialize, Deserialize)]
struct Callback {
    sender: String,
    result: serde_json::Map<String, Value>,
}

/// c ‖ len(sender) ‖ sender ‖ id: one key per sender and request id.
fn callback_key(sender: &str, id: u64) -> Vec<u8> {
    let mut k = vec![CALLBACK_PREFIX, sender.len() as u8];
    k.extend_from_slice(sender.as_bytes());
    k.extend_from_slice(&id.to_be_bytes());
    k
}

#[derive(Serialize, Deserialize)]
struct Stored {
    task_id: String,
    service_id: String,
    status: String,
    result: String,
}

fn key(task_id: u64) -> Vec<u8> {
    let mut k = vec![RESULT_PREFIX];
    k.extend_from_slice(&task_id.to_be_bytes());
    k
}

fn do_instantiate(_env: Env, _info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    let _: serde_json::Map<String, Value> = parse("instantiate", msg)?;
    Ok(Response::new().attr("action", "instantiate"))
}

fn do_execute(_env: Env, info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    let ExecuteMsg::AvsResult(result) = parse("execute (avs-handler takes only avs_result; x/avs calls it with sudo)", msg)?;
    let id = match result.get("id") {
        Some(Value::String(s)) => parse_u64("id", s)?,
        _ => return Err("avs_result needs the request id as a decimal string".to_string()),
    };
    if info.sender.len() > 255 {
        return Err("sender address too long".to_string());
    }
    let status = result.get("status").and_then(Value::as_str).unwrap_or("").to_string();
    storage::save(&callback_key(&info.sender, id), &Callback { sender: info.sender.clone(), result })?;
    Ok(Response::new().attr("action", "avs_result").attr("sender", info.sender).attr("id", id).attr("status", status))
}

fn do_sudo(_env: Env, msg: &[u8]) -> Result<Response, String> {
    let SudoMsg::AvsTaskResult(r) = parse("sudo", msg)?;
    let id = parse_u64("task_id", &r.task_id)?;
    parse_u64("service_id", &r.service_id)?;
    let stored = Stored { task_id: r.task_id, service_id: r.service_id, status: r.status, result: r.result.unwrap_or_default() };
    storage::save(&key(id), &stored)?;
    Ok(Response::new().attr("action", "avs_task_result").attr("task_id", id).attr("status", &stored.status))
}

fn do_query(_env: Env, msg: &[u8]) -> Result<Value, String> {
    match parse("query", msg)? {
        QueryMsg::Result { task_id } => {
            let id = parse_u64("task_id", &task_id)?;
            let r: Stored = storage::load(&key(id))?.ok_or_else(|| format!("no result for task {id}"))?;
            serde_json::to_value(r).map_err(|e| e.to_string())
        }
        QueryMsg::Callbacks { limit } => {
            let limit = limit.map(|l| l as usize).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
            let mut out = Vec::new();
            for (_, v) in storage::range(&[CALLBACK_PREFIX], &[CALLBACK_PREFIX + 1], limit) {
                out.push(serde_json::from_slice::<Value>(&v).map_err(|e| format!("corrupt state: {e}"))?);
            }
            Ok(json!({ "callbacks": out }))
        }
        QueryMsg::Results { start_after, limit } => {
            let start = match start_after {
                Some(s) => match parse_u64("start_after", &s)?.checked_add(1) {
                    Some(next) => key(next),
                    None => return Ok(json!({ "results": [] })),
                },
                None => vec![RESULT_PREFIX],
            };
            let limit = limit.map(|l| l as usize).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
            let mut out = Vec::new();
            for (_, v) in storage::range(&start, &[RESULT_PREFIX + 1], limit) {
                out.push(serde_json::from_slice::<Value>(&v).map_err(|e| format!("corrupt state: {e}"))?);
            }
            Ok(json!({ "results": out }))
        }
    }
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
pub extern "C" fn sudo(env: u32, msg: u32) -> u32 {
    run(env, msg, do_sudo)
}

#[no_mangle]
pub extern "C" fn query(env: u32, msg: u32) -> u32 {
    run_query(env, msg, do_query)
}
