//! avs-ibc-client: lets a dApp on any CosmWasm chain request avschain tasks
//! over IBC. Deployed on that chain, it owns the port `wasm.<address>`; a
//! relayer opens an unordered channel from it to avschain's `avs` port
//! (version `avs-1`), and avschain's service owner lists avschain's end of
//! that channel in the manifest's `ibc_request_channels`.
//!
//! - instantiate `{}` (optional `admin`, `callback_gas_limit`)
//! - execute `{"request":{"service_id":"1","input":"<base64>","timeout_seconds":600,"callback":"<addr>","channel":"channel-0"}}`
//!   (callback and channel optional; no funds: the service's treasury on
//!   avschain pays) sends the request packet and answers data
//!   `{"request_id":"1"}`
//! - execute `{"update_config":{"admin":…,"callback_gas_limit":…}}` (admin)
//! - query `{"result":{"id":"1"}}`, `{"results":{"start_after":"1","limit":10}}`,
//!   `{"channels":{}}`, `{"config":{}}`
//!
//! A record's status is `pending` until the acknowledgement or the timeout
//! comes back: `completed`, `failed` (the component failed; `error` is the
//! reason), `expired` (no quorum), `error` (avschain refused the request, or
//! answered something unreadable; `error` says what) or `timeout`. Results
//! avschain pushes on a channel (a service's `ibc_result_channels`) are
//! records of kind `pushed`. When a request names a callback contract, it is
//! executed with `{"avs_result":{…}}` as a gas-limited submessage whose
//! failure is recorded in `callback_status` and never undoes the record.
//!
//! `ibc_packet_ack` and `ibc_packet_timeout` never fail: a failure would fail
//! the relayer's transaction and leave the packet stuck.

// The entry points are wasm32-only (so host tests link); on the host the
// logic they call is only partly used by the tests.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

use avs_abi::ibc::{
    ics04_result, run_ibc, run_ibc_infallible, send_packet, wasm_execute, IbcBasicResponse, IbcChannel,
    IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg, IbcChannelOpenResponse, IbcOrder, IbcPacket,
    IbcPacketAckMsg, IbcPacketReceiveMsg, IbcPacketTimeoutMsg, IbcReceiveResponse, Reply, SubMsgResult,
};
use avs_abi::{
    base64_decode, base64_encode, parse, parse_u64, run_query, run_with_info, storage, validate_address, Env,
    MessageInfo, ReplyOn, Response,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The avs-1 protocol of avschain's x/avs (x/avs/types/packets.go).
const VERSION: &str = "avs-1";
const MEMO_PREFIX: &str = "avs-ibc-client:";

const CONFIG_KEY: &[u8] = b"config";
const NEXT_ID_KEY: &[u8] = b"next_id";
const RECORD_PREFIX: u8 = b'r';
const CHANNEL_PREFIX: u8 = b'h';

const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 100;
/// x/avs's bound on a remote request's timeout (30 days).
const MAX_TIMEOUT_SECONDS: u64 = 30 * 24 * 60 * 60;
const DEFAULT_CALLBACK_GAS: u64 = 300_000;
/// Enough for a callback to store what it was given; far below a block.
const MAX_CALLBACK_GAS: u64 = 10_000_000;

#[derive(Serialize, Deserialize)]
struct Config {
    admin: String,
    callback_gas_limit: u64,
}

/// A channel to avschain, as the handshake left it.
#[derive(Serialize, Deserialize)]
struct Channel {
    channel_id: String,
    connection_id: String,
    counterparty_port: String,
    counterparty_channel: String,
    open: bool,
}

/// One request, or one result avschain pushed.
#[derive(Serialize, Deserialize, Default)]
struct Record {
    id: String,
    /// "request" or "pushed".
    kind: String,
    channel: String,
    /// The packet's sequence on `channel`: known once the packet comes back.
    sequence: Option<u64>,
    service_id: String,
    /// base64
    input: String,
    /// The account that sent the request (empty for a pushed result).
    requester: String,
    callback: Option<String>,
    /// pending | completed | failed | expired | error | timeout
    status: String,
    task_id: Option<String>,
    /// base64 of the task's result (completed, or pushed).
    result: Option<String>,
    power_for: Option<String>,
    power_total: Option<String>,
    /// avschain's block height when the task ended.
    height: Option<String>,
    /// Why the record is failed, error or timeout.
    error: Option<String>,
    /// null, "delivered" or "failed: <reason>".
    callback_status: Option<String>,
    created_height: u64,
    updated_height: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstantiateMsg {
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    callback_gas_limit: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ExecuteMsg {
    Request {
        service_id: String,
        input: String,
        timeout_seconds: u64,
        #[serde(default)]
        callback: Option<String>,
        #[serde(default)]
        channel: Option<String>,
    },
    UpdateConfig {
        #[serde(default)]
        admin: Option<String>,
        #[serde(default)]
        callback_gas_limit: Option<u64>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum QueryMsg {
    Result { id: String },
    Results {
        #[serde(default)]
        start_after: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Channels {},
    Config {},
}

/// x/avs's TaskRequestPacketData.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestPacket {
    service_id: String,
    input: String,
    #[serde(default)]
    memo: String,
}

/// x/avs's TaskResultPacketData (a pushed result).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultPacket {
    task_id: String,
    service_id: String,
    status: String,
    input: Option<String>,
    result: Option<String>,
    power_for: String,
    power_total: String,
    height: String,
}

/// x/avs's TaskAck, inside an ICS-04 result acknowledgement.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskAck {
    task_id: String,
    status: String,
    result: Option<String>,
    power_for: String,
    power_total: String,
    height: String,
}

/// ICS-04's acknowledgement: exactly one of the two.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Ics04Ack {
    Result(String),
    Error(String),
}

fn record_key(id: u64) -> Vec<u8> {
    let mut k = vec![RECORD_PREFIX];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn channel_key(id: &str) -> Vec<u8> {
    let mut k = vec![CHANNEL_PREFIX];
    k.extend_from_slice(id.as_bytes());
    k
}

fn config() -> Result<Config, String> {
    storage::load(CONFIG_KEY)?.ok_or_else(|| "not instantiated".to_string())
}

fn next_id() -> Result<u64, String> {
    let id = storage::load::<u64>(NEXT_ID_KEY)?.unwrap_or(1);
    storage::save(NEXT_ID_KEY, &(id + 1))?;
    Ok(id)
}

fn load_record(id: u64) -> Result<Option<Record>, String> {
    storage::load(&record_key(id))
}

fn save_record(r: &Record) -> Result<(), String> {
    storage::save(&record_key(parse_u64("id", &r.id)?), r)
}

fn check_gas(gas: u64) -> Result<u64, String> {
    if gas == 0 || gas > MAX_CALLBACK_GAS {
        return Err(format!("callback_gas_limit must be 1 to {MAX_CALLBACK_GAS}, got {gas}"));
    }
    Ok(gas)
}

fn do_instantiate(_env: Env, info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    let msg: InstantiateMsg = parse("instantiate", msg)?;
    let admin = msg.admin.unwrap_or(info.sender);
    validate_address(&admin)?;
    let cfg = Config { admin, callback_gas_limit: check_gas(msg.callback_gas_limit.unwrap_or(DEFAULT_CALLBACK_GAS))? };
    storage::save(CONFIG_KEY, &cfg)?;
    Ok(Response::new().attr("action", "instantiate").attr("admin", cfg.admin))
}

fn do_execute(env: Env, info: MessageInfo, msg: &[u8]) -> Result<Response, String> {
    match parse("execute", msg)? {
        ExecuteMsg::Request { service_id, input, timeout_seconds, callback, channel } => {
            request(env, info, service_id, input, timeout_seconds, callback, channel)
        }
        ExecuteMsg::UpdateConfig { admin, callback_gas_limit } => {
            let mut cfg = config()?;
            if info.sender != cfg.admin {
                return Err(format!("only the admin {} may update the config", cfg.admin));
            }
            if let Some(a) = admin {
                validate_address(&a)?;
                cfg.admin = a;
            }
            if let Some(g) = callback_gas_limit {
                cfg.callback_gas_limit = check_gas(g)?;
            }
            storage::save(CONFIG_KEY, &cfg)?;
            Ok(Response::new().attr("action", "update_config").attr("admin", &cfg.admin).attr("callback_gas_limit", cfg.callback_gas_limit))
        }
    }
}

fn open_channels() -> Result<Vec<Channel>, String> {
    let mut out = Vec::new();
    for (_, v) in storage::range(&[CHANNEL_PREFIX], &[CHANNEL_PREFIX + 1], usize::MAX) {
        let c: Channel = serde_json::from_slice(&v).map_err(|e| format!("corrupt state: {e}"))?;
        if c.open {
            out.push(c);
        }
    }
    Ok(out)
}

fn pick_channel(name: Option<String>) -> Result<String, String> {
    if let Some(name) = name {
        return match storage::load::<Channel>(&channel_key(&name))? {
            Some(c) if c.open => Ok(c.channel_id),
            Some(_) => Err(format!("channel {name} is closed: open a new one to avschain's avs port")),
            None => Err(format!("no channel {name} to avschain: see the channels query")),
        };
    }
    let mut open = open_channels()?;
    match open.len() {
        0 => Err("no open channel to avschain: a relayer must open one from this contract's port to avschain's avs port (version avs-1, unordered)".to_string()),
        1 => Ok(open.remove(0).channel_id),
        n => Err(format!("{n} channels to avschain are open: name one with channel")),
    }
}

fn request(
    env: Env,
    info: MessageInfo,
    service_id: String,
    input: String,
    timeout_seconds: u64,
    callback: Option<String>,
    channel: Option<String>,
) -> Result<Response, String> {
    if !info.funds.is_empty() {
        return Err("send no funds: the service's treasury on avschain pays for the task".to_string());
    }
    if parse_u64("service_id", &service_id)? == 0 {
        return Err("service_id must be positive".to_string());
    }
    let input = base64_encode(&base64_decode(&input).map_err(|e| format!("input: {e}"))?);
    if timeout_seconds == 0 || timeout_seconds > MAX_TIMEOUT_SECONDS {
        return Err(format!("timeout_seconds must be 1 to {MAX_TIMEOUT_SECONDS}, got {timeout_seconds}"));
    }
    if let Some(cb) = &callback {
        validate_address(cb)?;
    }
    let channel = pick_channel(channel)?;
    let now = parse_u64("block time", &env.block.time)?;
    let timeout = timeout_seconds
        .checked_mul(1_000_000_000)
        .and_then(|d| now.checked_add(d))
        .ok_or_else(|| "timeout out of range".to_string())?;

    let id = next_id()?;
    let record = Record {
        id: id.to_string(),
        kind: "request".to_string(),
        channel: channel.clone(),
        service_id: service_id.clone(),
        input: input.clone(),
        requester: info.sender,
        callback,
        status: "pending".to_string(),
        created_height: env.block.height,
        updated_height: env.block.height,
        ..Default::default()
    };
    save_record(&record)?;
    let packet = RequestPacket { service_id, input, memo: format!("{MEMO_PREFIX}{id}") };
    let data = serde_json::to_vec(&packet).map_err(|e| e.to_string())?;
    let answer = serde_json::to_vec(&json!({ "request_id": id.to_string() })).map_err(|e| e.to_string())?;
    let mut res = Response::new()
        .message(send_packet(&channel, &data, timeout))
        .attr("action", "request")
        .attr("request_id", id)
        .attr("channel", &channel)
        .attr("service_id", &record.service_id);
    res.data = Some(base64_encode(&answer));
    Ok(res)
}

fn do_query(_env: Env, msg: &[u8]) -> Result<Value, String> {
    match parse("query", msg)? {
        QueryMsg::Result { id } => {
            let n = parse_u64("id", &id)?;
            let r = load_record(n)?.ok_or_else(|| format!("no record {n}"))?;
            to_value(&r)
        }
        QueryMsg::Results { start_after, limit } => {
            let start = match start_after {
                Some(s) => match parse_u64("start_after", &s)?.checked_add(1) {
                    Some(next) => record_key(next),
                    None => return Ok(json!({ "results": [] })),
                },
                None => vec![RECORD_PREFIX],
            };
            let limit = limit.map(|l| l as usize).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
            let mut out = Vec::new();
            for (_, v) in storage::range(&start, &[RECORD_PREFIX + 1], limit) {
                out.push(serde_json::from_slice::<Value>(&v).map_err(|e| format!("corrupt state: {e}"))?);
            }
            Ok(json!({ "results": out }))
        }
        QueryMsg::Channels {} => {
            let mut out = Vec::new();
            for (_, v) in storage::range(&[CHANNEL_PREFIX], &[CHANNEL_PREFIX + 1], MAX_LIMIT) {
                out.push(serde_json::from_slice::<Value>(&v).map_err(|e| format!("corrupt state: {e}"))?);
            }
            Ok(json!({ "channels": out }))
        }
        QueryMsg::Config {} => to_value(&config()?),
    }
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- channel handshake

/// Local checks only: the counterparty's port is avschain's business (any
/// port that speaks avs-1 will do).
fn check_channel(ch: &IbcChannel) -> Result<(), String> {
    if ch.order != IbcOrder::Unordered {
        return Err("avs-1 channels are unordered: open the channel with --order unordered".to_string());
    }
    Ok(())
}

fn check_version(what: &str, v: &str) -> Result<(), String> {
    if v != VERSION {
        return Err(format!("{what} must be {VERSION:?}, got {v:?}"));
    }
    Ok(())
}

fn do_channel_open(_env: Env, msg: IbcChannelOpenMsg) -> Result<Option<IbcChannelOpenResponse>, String> {
    check_channel(msg.channel())?;
    match &msg {
        IbcChannelOpenMsg::OpenInit { channel } => {
            if !channel.version.is_empty() {
                check_version("the channel version", &channel.version)?;
            }
        }
        IbcChannelOpenMsg::OpenTry { counterparty_version, .. } => check_version("the counterparty version", counterparty_version)?,
    }
    Ok(Some(IbcChannelOpenResponse { version: VERSION.to_string() }))
}

fn do_channel_connect(_env: Env, msg: IbcChannelConnectMsg) -> Result<IbcBasicResponse, String> {
    let ch = msg.channel();
    check_channel(ch)?;
    if let IbcChannelConnectMsg::OpenAck { counterparty_version, .. } = &msg {
        check_version("the counterparty version", counterparty_version)?;
    }
    let c = Channel {
        channel_id: ch.endpoint.channel_id.clone(),
        connection_id: ch.connection_id.clone(),
        counterparty_port: ch.counterparty_endpoint.port_id.clone(),
        counterparty_channel: ch.counterparty_endpoint.channel_id.clone(),
        open: true,
    };
    storage::save(&channel_key(&c.channel_id), &c)?;
    Ok(Response::new().attr("action", "channel_connect").attr("channel", &c.channel_id).into())
}

/// A closed channel is kept, marked closed; requests in flight on it end by
/// timeout.
fn do_channel_close(_env: Env, msg: IbcChannelCloseMsg) -> Result<IbcBasicResponse, String> {
    let id = &msg.channel().endpoint.channel_id;
    if let Some(mut c) = storage::load::<Channel>(&channel_key(id))? {
        c.open = false;
        storage::save(&channel_key(id), &c)?;
    }
    Ok(Response::new().attr("action", "channel_close").attr("channel", id).into())
}

// ---------------------------------------------------------------- packets

/// Stores a result avschain pushed (TaskResultPacketData) and acknowledges
/// it as x/avs expects: ICS-04 `{"result":"AQ=="}`. Anything else is refused,
/// which wasmd turns into an error acknowledgement.
fn do_packet_receive(env: Env, msg: IbcPacketReceiveMsg) -> Result<IbcReceiveResponse, String> {
    let data = base64_decode(&msg.packet.data)?;
    let p: ResultPacket = serde_json::from_slice(&data).map_err(|e| format!("not an avs-1 result packet: {e}"))?;
    parse_u64("task_id", &p.task_id)?;
    let id = next_id()?;
    let record = Record {
        id: id.to_string(),
        kind: "pushed".to_string(),
        channel: msg.packet.dest.channel_id.clone(),
        sequence: Some(msg.packet.sequence),
        service_id: p.service_id,
        input: p.input.unwrap_or_default(),
        status: p.status,
        task_id: Some(p.task_id),
        result: p.result,
        power_for: Some(p.power_for),
        power_total: Some(p.power_total),
        height: Some(p.height),
        created_height: env.block.height,
        updated_height: env.block.height,
        ..Default::default()
    };
    save_record(&record)?;
    let res = Response::new().attr("action", "pushed_result").attr("record_id", id).attr("task_id", record.task_id.as_deref().unwrap_or(""));
    Ok(IbcReceiveResponse::new(&ics04_result(&[1]), res))
}

/// The record a packet this contract sent belongs to, from the memo.
fn record_of(packet: &IbcPacket) -> Result<Record, String> {
    let data = base64_decode(&packet.data)?;
    let p: RequestPacket = serde_json::from_slice(&data).map_err(|e| format!("not a request this contract sent: {e}"))?;
    let id = p.memo.strip_prefix(MEMO_PREFIX).ok_or_else(|| format!("memo {:?} names no request", p.memo))?;
    let id = parse_u64("request id", id)?;
    let r = load_record(id)?.ok_or_else(|| format!("no request {id}"))?;
    if r.channel != packet.src.channel_id {
        return Err(format!("request {id} went out on {}, not {}", r.channel, packet.src.channel_id));
    }
    Ok(r)
}

/// What avschain's acknowledgement says: (status, error, ack).
fn read_ack(data_b64: &str) -> Result<(String, Option<String>, Option<TaskAck>), String> {
    let bytes = base64_decode(data_b64)?;
    let ack: Ics04Ack = serde_json::from_slice(&bytes).map_err(|e| format!("not an ICS-04 acknowledgement: {e}"))?;
    let inner = match ack {
        Ics04Ack::Error(e) => return Ok(("error".to_string(), Some(e), None)),
        Ics04Ack::Result(b) => base64_decode(&b)?,
    };
    let t: TaskAck = serde_json::from_slice(&inner).map_err(|e| format!("not an avs-1 TaskAck: {e}"))?;
    parse_u64("task_id", &t.task_id)?;
    match t.status.as_str() {
        "completed" | "expired" => Ok((t.status.clone(), None, Some(t))),
        "failed" => {
            let reason = t.result.as_deref().map(base64_decode).transpose()?.unwrap_or_default();
            let reason = format!("the component failed: {}", String::from_utf8_lossy(&reason));
            Ok(("failed".to_string(), Some(reason), Some(t)))
        }
        s => Err(format!("unknown task status {s:?}")),
    }
}

fn do_packet_ack(env: Env, msg: IbcPacketAckMsg) -> Result<IbcBasicResponse, String> {
    let mut r = match record_of(&msg.original_packet) {
        Ok(r) => r,
        Err(e) => return Ok(Response::new().attr("action", "ack").attr("ignored", e).into()),
    };
    if r.status != "pending" {
        return Ok(Response::new().attr("action", "ack").attr("ignored", format!("request {} is already {}", r.id, r.status)).into());
    }
    r.sequence = Some(msg.original_packet.sequence);
    match read_ack(&msg.acknowledgement.data) {
        Ok((status, error, ack)) => {
            r.status = status;
            r.error = error;
            if let Some(t) = ack {
                if t.status == "completed" {
                    r.result = t.result;
                }
                r.task_id = Some(t.task_id);
                r.power_for = Some(t.power_for);
                r.power_total = Some(t.power_total);
                r.height = Some(t.height);
            }
        }
        Err(e) => {
            r.status = "error".to_string();
            r.error = Some(format!("unreadable acknowledgement: {e}"));
        }
    }
    finish(env, r, "ack")
}

fn do_packet_timeout(env: Env, msg: IbcPacketTimeoutMsg) -> Result<IbcBasicResponse, String> {
    let mut r = match record_of(&msg.packet) {
        Ok(r) => r,
        Err(e) => return Ok(Response::new().attr("action", "timeout").attr("ignored", e).into()),
    };
    if r.status != "pending" {
        return Ok(Response::new().attr("action", "timeout").attr("ignored", format!("request {} is already {}", r.id, r.status)).into());
    }
    r.sequence = Some(msg.packet.sequence);
    r.status = "timeout".to_string();
    r.error = Some("the packet timed out before avschain received it: no task was created".to_string());
    finish(env, r, "timeout")
}

/// Saves an ended request and sends its callback, if it has one. The record
/// is written here, in the entry point's own context; the callback runs as a
/// submessage that may only fail on its own (reply_on error).
fn finish(env: Env, mut r: Record, action: &str) -> Result<IbcBasicResponse, String> {
    r.updated_height = env.block.height;
    let id = parse_u64("id", &r.id)?;
    let mut res = Response::new().attr("action", action).attr("request_id", id).attr("status", &r.status);
    if let Some(cb) = r.callback.clone() {
        let cfg = config()?;
        r.callback_status = Some("delivered".to_string());
        let msg = json!({"avs_result": {
            "id": r.id, "kind": r.kind, "channel": r.channel, "service_id": r.service_id,
            "task_id": r.task_id, "status": r.status, "result": r.result, "error": r.error,
        }});
        res = res.submessage_gas(id, wasm_execute(&cb, &msg), cfg.callback_gas_limit, ReplyOn::Error);
    }
    save_record(&r)?;
    Ok(res.into())
}

/// A callback failed (reply_on error): the record stays, marked. Never
/// fails, or the acknowledgement or timeout that sent the callback would.
fn do_reply(env: Env, reply: Reply) -> Result<Response, String> {
    let reason = match reply.result {
        SubMsgResult::Error(e) => e,
        SubMsgResult::Ok(_) => return Ok(Response::new()),
    };
    if let Ok(Some(mut r)) = load_record(reply.id) {
        r.callback_status = Some(format!("failed: {reason}"));
        r.updated_height = env.block.height;
        let _ = save_record(&r);
    }
    Ok(Response::new().attr("action", "callback_failed").attr("request_id", reply.id).attr("reason", reason))
}

// ---------------------------------------------------------------- entry points

#[cfg(target_arch = "wasm32")]
mod exports {
    use super::*;
    use avs_abi::run;

    #[no_mangle]
    pub extern "C" fn instantiate(env: u32, info: u32, msg: u32) -> u32 {
        run_with_info(env, info, msg, do_instantiate)
    }

    #[no_mangle]
    pub extern "C" fn execute(env: u32, info: u32, msg: u32) -> u32 {
        run_with_info(env, info, msg, do_execute)
    }

    #[no_mangle]
    pub extern "C" fn query(env: u32, msg: u32) -> u32 {
        run_query(env, msg, do_query)
    }

    #[no_mangle]
    pub extern "C" fn reply(env: u32, msg: u32) -> u32 {
        run(env, msg, |env, msg| match serde_json::from_slice::<Reply>(msg) {
            Ok(r) => do_reply(env, r),
            Err(e) => Ok(Response::new().attr("error", format!("unreadable reply: {e}"))),
        })
    }

    #[no_mangle]
    pub extern "C" fn ibc_channel_open(env: u32, msg: u32) -> u32 {
        run_ibc(env, msg, do_channel_open)
    }

    #[no_mangle]
    pub extern "C" fn ibc_channel_connect(env: u32, msg: u32) -> u32 {
        run_ibc(env, msg, do_channel_connect)
    }

    #[no_mangle]
    pub extern "C" fn ibc_channel_close(env: u32, msg: u32) -> u32 {
        run_ibc(env, msg, do_channel_close)
    }

    #[no_mangle]
    pub extern "C" fn ibc_packet_receive(env: u32, msg: u32) -> u32 {
        run_ibc(env, msg, do_packet_receive)
    }

    #[no_mangle]
    pub extern "C" fn ibc_packet_ack(env: u32, msg: u32) -> u32 {
        run_ibc_infallible(env, msg, do_packet_ack)
    }

    #[no_mangle]
    pub extern "C" fn ibc_packet_timeout(env: u32, msg: u32) -> u32 {
        run_ibc_infallible(env, msg, do_packet_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(inner: &str) -> String {
        base64_encode(inner.as_bytes())
    }

    #[test]
    fn acks() {
        let task = base64_encode(br#"{"task_id":"4","status":"completed","result":"ODE=","power_for":"3","power_total":"3","height":"12"}"#);
        let (s, e, t) = read_ack(&ack(&format!(r#"{{"result":"{task}"}}"#))).unwrap();
        assert_eq!((s.as_str(), e), ("completed", None));
        assert_eq!(t.unwrap().result.as_deref(), Some("ODE="));

        let failed = base64_encode(br#"{"task_id":"4","status":"failed","result":"dHJhcA==","power_for":"3","power_total":"3","height":"12"}"#);
        let (s, e, _) = read_ack(&ack(&format!(r#"{{"result":"{failed}"}}"#))).unwrap();
        assert_eq!((s.as_str(), e.as_deref()), ("failed", Some("the component failed: trap")));

        let (s, e, _) = read_ack(&ack(r#"{"error":"ABCI error: avs/10: service not found"}"#)).unwrap();
        assert_eq!((s.as_str(), e.as_deref()), ("error", Some("ABCI error: avs/10: service not found")));

        for garbage in ["", "null", "{}", r#"{"result":"!!"}"#, r#"{"result":"AQ=="}"#, r#"{"result":"e30=","error":"x"}"#, "\u{0}"] {
            assert!(read_ack(&ack(garbage)).is_err(), "{garbage:?}");
        }
        assert!(read_ack("not base64!").is_err());
    }
}
