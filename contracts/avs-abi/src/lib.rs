//! The CosmWasm 2.x contract ABI, spoken by hand (cosmwasm-std is not
//! packaged by Debian and the crates registry is out of reach), shared by the
//! avschain contracts:
//!
//! - memory: the `Region {offset, capacity, length}` the VM and the contract
//!   pass data in, and the `allocate` / `deallocate` / `interface_version_8`
//!   exports every contract needs (defined here once, exported from each
//!   contract that links this crate);
//! - the `env` imports a contract calls (storage, address validation,
//!   queries, debug);
//! - the JSON the VM exchanges: `Env`, `MessageInfo`, `Response`, `SubMsg`,
//!   and the `{"ok":…}` / `{"error":…}` envelopes, through `run_*` wrappers
//!   that an entry point calls with its logic; the IBC entry points' JSON is
//!   in [`ibc`];
//! - base64 (CosmWasm's `Binary`), and a tiny protobuf encoder for the
//!   Cosmos messages a contract sends as `CosmosMsg::Any`.
//!
//! Entry points (CosmWasm 2.x): instantiate/execute(env, info, msg),
//! query/sudo/reply/migrate(env, msg); each argument and the result is a
//! pointer to a Region holding JSON.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub mod ibc;

// ---------------------------------------------------------------- memory

/// Region describes a buffer in the contract's linear memory (CosmWasm ABI).
#[repr(C)]
pub struct Region {
    pub offset: u32,
    pub capacity: u32,
    pub length: u32,
}

/// The VM checks for this export to know the contract speaks CosmWasm 1.0+.
#[no_mangle]
pub extern "C" fn interface_version_8() {}

/// Allocates `size` bytes for the VM and returns a pointer to their Region.
#[no_mangle]
pub extern "C" fn allocate(size: usize) -> u32 {
    let mut buf = Vec::<u8>::with_capacity(size);
    let offset = buf.as_mut_ptr() as u32;
    std::mem::forget(buf);
    Box::into_raw(Box::new(Region { offset, capacity: size as u32, length: 0 })) as u32
}

/// Frees a Region (and its buffer) that `allocate` handed out.
#[no_mangle]
pub extern "C" fn deallocate(ptr: u32) {
    drop(unsafe { consume_region(ptr) });
}

/// Takes ownership of a Region the VM filled (or returned from an import).
///
/// # Safety
/// `ptr` must come from `allocate` and not have been consumed before.
pub unsafe fn consume_region(ptr: u32) -> Vec<u8> {
    let region = Box::from_raw(ptr as *mut Region);
    Vec::from_raw_parts(region.offset as *mut u8, region.length as usize, region.capacity as usize)
}

/// Hands `data` to the VM: returns a pointer to a Region it will read (and free).
pub fn release(data: Vec<u8>) -> u32 {
    let mut data = std::mem::ManuallyDrop::new(data);
    let region = Region { offset: data.as_mut_ptr() as u32, capacity: data.capacity() as u32, length: data.len() as u32 };
    Box::into_raw(Box::new(region)) as u32
}

/// A Region borrowing `data`, for passing to an import that only reads it.
fn borrowed(data: &[u8]) -> Box<Region> {
    Box::new(Region { offset: data.as_ptr() as u32, capacity: data.len() as u32, length: data.len() as u32 })
}

fn ptr_of(r: &Region) -> u32 {
    r as *const Region as u32
}

// ---------------------------------------------------------------- imports

extern "C" {
    fn db_read(key: u32) -> u32;
    fn db_write(key: u32, value: u32);
    fn db_remove(key: u32);
    fn db_scan(start: u32, end: u32, order: i32) -> u32;
    fn db_next(iterator_id: u32) -> u32;
    fn addr_validate(source: u32) -> u32;
    fn query_chain(request: u32) -> u32;
    fn debug(source: u32);
}

/// Contract storage.
pub mod storage {
    use super::*;

    pub fn get(key: &[u8]) -> Option<Vec<u8>> {
        let k = borrowed(key);
        let ptr = unsafe { db_read(ptr_of(&k)) };
        if ptr == 0 {
            None
        } else {
            Some(unsafe { consume_region(ptr) })
        }
    }

    pub fn set(key: &[u8], value: &[u8]) {
        let (k, v) = (borrowed(key), borrowed(value));
        unsafe { db_write(ptr_of(&k), ptr_of(&v)) }
    }

    pub fn remove(key: &[u8]) {
        let k = borrowed(key);
        unsafe { db_remove(ptr_of(&k)) }
    }

    /// Up to `limit` (key, value) pairs with start <= key < end, ascending.
    pub fn range(start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let (s, e) = (borrowed(start), borrowed(end));
        let it = unsafe { db_scan(ptr_of(&s), ptr_of(&e), 1) };
        let mut out = Vec::new();
        while out.len() < limit {
            // The record is key ‖ len(key) ‖ value ‖ len(value), lengths u32 big-endian;
            // an empty key ends the iteration.
            let kv = unsafe { consume_region(db_next(it)) };
            let (rest, value) = split_section(&kv);
            let (_, key) = split_section(rest);
            if key.is_empty() {
                break;
            }
            out.push((key.to_vec(), value.to_vec()));
        }
        out
    }

    fn split_section(b: &[u8]) -> (&[u8], &[u8]) {
        if b.len() < 4 {
            return (&[], &[]);
        }
        let n = b.len() - 4;
        let len = u32::from_be_bytes([b[n], b[n + 1], b[n + 2], b[n + 3]]) as usize;
        let len = len.min(n);
        (&b[..n - len], &b[n - len..n])
    }

    /// Reads and decodes a JSON value.
    pub fn load<T: DeserializeOwned>(key: &[u8]) -> Result<Option<T>, String> {
        match get(key) {
            None => Ok(None),
            Some(bz) => serde_json::from_slice(&bz).map(Some).map_err(|e| format!("corrupt state: {e}")),
        }
    }

    /// Encodes and writes a JSON value.
    pub fn save<T: Serialize>(key: &[u8], value: &T) -> Result<(), String> {
        set(key, &serde_json::to_vec(value).map_err(|e| e.to_string())?);
        Ok(())
    }
}

/// Checks that `addr` is a valid, normalized address of this chain.
pub fn validate_address(addr: &str) -> Result<(), String> {
    let a = borrowed(addr.as_bytes());
    let ptr = unsafe { addr_validate(ptr_of(&a)) };
    if ptr == 0 {
        return Ok(());
    }
    let msg = unsafe { consume_region(ptr) };
    Err(format!("invalid address {addr:?}: {}", String::from_utf8_lossy(&msg)))
}

/// Prints to the node's debug log (only when the node enables contract debug).
pub fn debug_print(msg: &str) {
    let m = borrowed(msg.as_bytes());
    unsafe { debug(ptr_of(&m)) }
}

/// Sends a QueryRequest (JSON) to the chain and returns the answer's bytes.
pub fn query_raw(request: &Value) -> Result<Vec<u8>, String> {
    let req = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    let r = borrowed(&req);
    let res = unsafe { consume_region(query_chain(ptr_of(&r))) };
    // SystemResult<ContractResult<Binary>>
    let v: Value = serde_json::from_slice(&res).map_err(|e| format!("query answer: {e}"))?;
    if let Some(inner) = v.get("ok") {
        if let Some(Value::String(b)) = inner.get("ok") {
            return base64_decode(b);
        }
        if let Some(e) = inner.get("error") {
            return Err(format!("query failed: {}", e.as_str().unwrap_or(&e.to_string())));
        }
    }
    Err(format!("query refused: {}", v.get("error").unwrap_or(&v)))
}

/// A stargate query: `path` is a gRPC method on the chain's accept list,
/// `data` its protobuf request; the answer is the response as JSON.
pub fn stargate_query(path: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    query_raw(&json!({"stargate": {"path": path, "data": base64_encode(data)}}))
}

// ---------------------------------------------------------------- messages

#[derive(Deserialize)]
pub struct Env {
    pub block: BlockInfo,
    pub contract: ContractInfo,
}

#[derive(Deserialize)]
pub struct BlockInfo {
    pub height: u64,
    /// Nanoseconds since the epoch, as a decimal string.
    pub time: String,
    pub chain_id: String,
}

#[derive(Deserialize)]
pub struct ContractInfo {
    pub address: String,
}

#[derive(Deserialize)]
pub struct MessageInfo {
    pub sender: String,
    pub funds: Vec<Coin>,
}

/// TaskResult is what x/avs sends a service's handler contract in sudo when a
/// task ends (ids as Uint64 strings, bytes as base64).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskResult {
    pub task_id: String,
    pub service_id: String,
    /// "completed" or "expired".
    pub status: String,
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
}

/// SudoMsg is x/avs's sudo call of a handler contract.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SudoMsg {
    AvsTaskResult(TaskResult),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    pub denom: String,
    pub amount: String,
}

#[derive(Serialize)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// ReplyOn says when a submessage's result comes back through `reply`.
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOn {
    Always,
    Error,
    Success,
    Never,
}

#[derive(Serialize)]
pub struct SubMsg {
    pub id: u64,
    /// base64; handed back unchanged in the reply.
    pub payload: String,
    pub msg: Value,
    pub gas_limit: Option<u64>,
    pub reply_on: ReplyOn,
}

/// Response of instantiate, execute, sudo and reply (CosmWasm 2.x).
#[derive(Serialize, Default)]
pub struct Response {
    pub messages: Vec<SubMsg>,
    pub attributes: Vec<Attribute>,
    pub events: Vec<Value>,
    pub data: Option<String>,
}

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn attr(mut self, key: &str, value: impl ToString) -> Self {
        self.attributes.push(Attribute { key: key.to_string(), value: value.to_string() });
        self
    }

    /// Adds a custom event; wasmd emits it as `wasm-<ty>` with the contract's
    /// address as the first attribute, `_contract_address`.
    pub fn event(mut self, ty: &str, attrs: &[(&str, &str)]) -> Self {
        let attributes: Vec<Value> = attrs.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
        self.events.push(json!({"type": ty, "attributes": attributes}));
        self
    }

    /// Sends msg; its failure fails the whole call, success is not reported.
    pub fn message(self, msg: Value) -> Self {
        self.submessage(0, msg, ReplyOn::Never)
    }

    pub fn submessage(mut self, id: u64, msg: Value, reply_on: ReplyOn) -> Self {
        self.messages.push(SubMsg { id, payload: String::new(), msg, gas_limit: None, reply_on });
        self
    }

    /// A submessage that may spend at most `gas_limit`: running out fails
    /// it alone (reported to `reply` as an error), not the whole call.
    pub fn submessage_gas(mut self, id: u64, msg: Value, gas_limit: u64, reply_on: ReplyOn) -> Self {
        self.messages.push(SubMsg { id, payload: String::new(), msg, gas_limit: Some(gas_limit), reply_on });
        self
    }
}

/// `CosmosMsg::Any`: a protobuf-encoded Cosmos SDK message.
pub fn any_msg(type_url: &str, value: &[u8]) -> Value {
    json!({"any": {"type_url": type_url, "value": base64_encode(value)}})
}

/// Parses a JSON message, naming it in the error.
pub fn parse<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("invalid {what} message: {e}"))
}

/// A u64 as CosmWasm's Uint64: a decimal string ("1").
pub fn parse_u64(what: &str, s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| format!("{what} must be a decimal integer, got {s:?}"))
}

// ---------------------------------------------------------------- entry points

fn finish<T: Serialize>(res: Result<T, String>) -> u32 {
    let envelope = match res {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": e }),
    };
    release(serde_json::to_vec(&envelope).unwrap_or_else(|_| br#"{"error":"cannot encode the result"}"#.to_vec()))
}

unsafe fn arg<T: DeserializeOwned>(what: &str, ptr: u32) -> Result<T, String> {
    let bz = consume_region(ptr);
    serde_json::from_slice(&bz).map_err(|e| format!("invalid {what}: {e}"))
}

/// For instantiate and execute: (env, info, msg) -> Response.
pub fn run_with_info(env: u32, info: u32, msg: u32, f: fn(Env, MessageInfo, &[u8]) -> Result<Response, String>) -> u32 {
    let res = (|| {
        let env = unsafe { arg::<Env>("env", env)? };
        let info = unsafe { arg::<MessageInfo>("info", info)? };
        let msg = unsafe { consume_region(msg) };
        f(env, info, &msg)
    })();
    finish(res)
}

/// For sudo, reply and migrate: (env, msg) -> Response.
pub fn run(env: u32, msg: u32, f: fn(Env, &[u8]) -> Result<Response, String>) -> u32 {
    let res = (|| {
        let env = unsafe { arg::<Env>("env", env)? };
        let msg = unsafe { consume_region(msg) };
        f(env, &msg)
    })();
    finish(res)
}

/// For query: (env, msg) -> the answer as JSON, sent base64-encoded (Binary).
pub fn run_query(env: u32, msg: u32, f: fn(Env, &[u8]) -> Result<Value, String>) -> u32 {
    let res = (|| {
        let env = unsafe { arg::<Env>("env", env)? };
        let msg = unsafe { consume_region(msg) };
        let answer = f(env, &msg)?;
        Ok(base64_encode(&serde_json::to_vec(&answer).map_err(|e| e.to_string())?))
    })();
    finish(res)
}

// ---------------------------------------------------------------- base64

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (CosmWasm's Binary).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() + 2) / 3 * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; padding is optional, nothing else is tolerated.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("invalid base64: unexpected {:?}", c as char)),
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("invalid base64: truncated".to_string());
    }
    Ok(out)
}

// ---------------------------------------------------------------- protobuf

/// A protobuf message being encoded, field by field (proto3: zero values
/// are left out, as the Go encoder does).
#[derive(Default)]
pub struct Proto(Vec<u8>);

impl Proto {
    pub fn new() -> Self {
        Self::default()
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((field as u64) << 3 | wire as u64);
    }

    pub fn uint(mut self, field: u32, v: u64) -> Self {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
        self
    }

    pub fn bytes(mut self, field: u32, b: &[u8]) -> Self {
        if !b.is_empty() {
            self.key(field, 2);
            self.varint(b.len() as u64);
            self.0.extend_from_slice(b);
        }
        self
    }

    pub fn string(self, field: u32, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }

    /// An embedded message; written even when empty (gogoproto non-nullable).
    pub fn message(mut self, field: u32, m: Proto) -> Self {
        self.key(field, 2);
        self.varint(m.0.len() as u64);
        self.0.extend_from_slice(&m.0);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// cosmos.base.v1beta1.Coin{denom = 1, amount = 2}.
pub fn proto_coin(c: &Coin) -> Proto {
    Proto::new().string(1, &c.denom).string(2, &c.amount)
}

/// The varint fields of a protobuf message, as (field, value); other wire
/// types are skipped.
pub fn proto_varints(mut b: &[u8]) -> Result<Vec<(u32, u64)>, String> {
    fn varint(b: &mut &[u8]) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first().ok_or("truncated protobuf")?;
            *b = rest;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err("protobuf varint too long".to_string())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b)?;
        let field = (key >> 3) as u32;
        let skip = match key & 7 {
            0 => {
                out.push((field, varint(&mut b)?));
                0
            }
            1 => 8,
            2 => varint(&mut b)? as usize,
            5 => 4,
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        if skip > b.len() {
            return Err("truncated protobuf".to_string());
        }
        b = &b[skip..];
    }
    Ok(out)
}

/// A decimal string ("0.67") as the Go side's LegacyDec encodes it on the
/// wire: the integer scaled by 10^18 ("670000000000000000").
pub fn legacy_dec(s: &str) -> Result<String, String> {
    let bad = || format!("invalid decimal {s:?}");
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() || frac.len() > 18 || digits.ends_with('.') {
        return Err(bad());
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mut scaled = format!("{int}{frac:0<18}");
    let trimmed = scaled.trim_start_matches('0');
    scaled = if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() };
    if neg && scaled != "0" {
        scaled.insert(0, '-');
    }
    Ok(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }

    #[test]
    fn decs() {
        assert_eq!(legacy_dec("0.67").unwrap(), "670000000000000000");
        assert_eq!(legacy_dec("1").unwrap(), "1000000000000000000");
        assert_eq!(legacy_dec("0").unwrap(), "0");
        assert!(legacy_dec("1.").is_err());
        assert!(legacy_dec("x").is_err());
    }
}
