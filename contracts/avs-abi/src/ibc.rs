//! The IBC side of the CosmWasm 2.x ABI: the JSON wasmvm sends the six
//! `ibc_*` entry points and the responses it expects back, shaped like
//! wasmvm's Go types (wasmvm v2 `types/ibc.go`, `types/msg.go`,
//! `types/submessages.go`), which wasmd decodes with encoding/json:
//!
//! - a packet's `sequence` is a JSON number, its timeout timestamp a decimal
//!   string of nanoseconds (absent when zero), its block timeout `null` or
//!   `{revision, height}`; bytes are base64 strings;
//! - a channel's order is "ORDER_UNORDERED" or "ORDER_ORDERED";
//! - `ibc_channel_open` answers `{"version":…}` or null (keep the proposed
//!   version), the other channel and ack/timeout entry points an
//!   `IbcBasicResponse`, `ibc_packet_receive` an `IbcReceiveResponse` whose
//!   `acknowledgement` is base64, or null to acknowledge later.
//!
//! A contract exports all six entry points or none: wasmvm marks code
//! IBC-enabled (and wasmd binds its `wasm.<address>` port) only with all six.

use super::{base64_encode, finish, release, Attribute, Env, Response, SubMsg};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcEndpoint {
    pub port_id: String,
    pub channel_id: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IbcOrder {
    #[serde(rename = "ORDER_UNORDERED")]
    Unordered,
    #[serde(rename = "ORDER_ORDERED")]
    Ordered,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcChannel {
    pub endpoint: IbcEndpoint,
    pub counterparty_endpoint: IbcEndpoint,
    pub order: IbcOrder,
    pub version: String,
    pub connection_id: String,
}

/// The argument of `ibc_channel_open`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IbcChannelOpenMsg {
    OpenInit { channel: IbcChannel },
    OpenTry { channel: IbcChannel, counterparty_version: String },
}

impl IbcChannelOpenMsg {
    pub fn channel(&self) -> &IbcChannel {
        match self {
            Self::OpenInit { channel } | Self::OpenTry { channel, .. } => channel,
        }
    }
}

/// The argument of `ibc_channel_connect`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IbcChannelConnectMsg {
    OpenAck { channel: IbcChannel, counterparty_version: String },
    OpenConfirm { channel: IbcChannel },
}

impl IbcChannelConnectMsg {
    pub fn channel(&self) -> &IbcChannel {
        match self {
            Self::OpenAck { channel, .. } | Self::OpenConfirm { channel } => channel,
        }
    }
}

/// The argument of `ibc_channel_close`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IbcChannelCloseMsg {
    CloseInit { channel: IbcChannel },
    CloseConfirm { channel: IbcChannel },
}

impl IbcChannelCloseMsg {
    pub fn channel(&self) -> &IbcChannel {
        match self {
            Self::CloseInit { channel } | Self::CloseConfirm { channel } => channel,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcTimeoutBlock {
    pub revision: u64,
    pub height: u64,
}

/// At least one of block and timestamp is set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcTimeout {
    pub block: Option<IbcTimeoutBlock>,
    /// Nanoseconds since the epoch as a decimal string (Go `uint64
    /// json:",string,omitempty"`): absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl IbcTimeout {
    /// A timeout at `nanos` since the epoch, with no block height.
    pub fn at_nanos(nanos: u64) -> Self {
        Self { block: None, timestamp: Some(nanos.to_string()) }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcPacket {
    /// base64
    pub data: String,
    pub src: IbcEndpoint,
    pub dest: IbcEndpoint,
    /// A JSON number (Go uint64), unlike the Uint64 strings elsewhere.
    pub sequence: u64,
    pub timeout: IbcTimeout,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcAcknowledgement {
    /// base64 of the acknowledgement's bytes as the counterparty wrote them.
    pub data: String,
}

/// The argument of `ibc_packet_receive`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcPacketReceiveMsg {
    pub packet: IbcPacket,
    pub relayer: String,
}

/// The argument of `ibc_packet_ack`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcPacketAckMsg {
    pub acknowledgement: IbcAcknowledgement,
    pub original_packet: IbcPacket,
    pub relayer: String,
}

/// The argument of `ibc_packet_timeout`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcPacketTimeoutMsg {
    pub packet: IbcPacket,
    pub relayer: String,
}

/// The answer of `ibc_channel_open` when it names the version (wasmvm
/// `IBC3ChannelOpenResponse`); `None` keeps the version proposed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IbcChannelOpenResponse {
    pub version: String,
}

/// The answer of `ibc_channel_connect`, `ibc_channel_close`,
/// `ibc_packet_ack` and `ibc_packet_timeout`: a `Response` without data.
#[derive(Serialize, Default)]
pub struct IbcBasicResponse {
    pub messages: Vec<SubMsg>,
    pub attributes: Vec<Attribute>,
    pub events: Vec<Value>,
}

impl From<Response> for IbcBasicResponse {
    fn from(r: Response) -> Self {
        Self { messages: r.messages, attributes: r.attributes, events: r.events }
    }
}

/// The answer of `ibc_packet_receive`.
#[derive(Serialize, Default)]
pub struct IbcReceiveResponse {
    /// base64; None writes no acknowledgement now (the contract writes it
    /// later with `write_acknowledgement`).
    pub acknowledgement: Option<String>,
    pub messages: Vec<SubMsg>,
    pub attributes: Vec<Attribute>,
    pub events: Vec<Value>,
}

impl IbcReceiveResponse {
    /// Acknowledges with `ack`'s bytes and `r`'s messages, attributes and events.
    pub fn new(ack: &[u8], r: Response) -> Self {
        Self { acknowledgement: Some(base64_encode(ack)), messages: r.messages, attributes: r.attributes, events: r.events }
    }
}

/// ICS-04's success acknowledgement `{"result":"<base64>"}`, as ibc-go's
/// `NewResultAcknowledgement` writes it.
pub fn ics04_result(result: &[u8]) -> Vec<u8> {
    json!({ "result": base64_encode(result) }).to_string().into_bytes()
}

/// `CosmosMsg::Ibc(IbcMsg::SendPacket)`: sends `data` on one of this
/// contract's channels, timing out at `timeout_nanos` (counterparty time).
pub fn send_packet(channel_id: &str, data: &[u8], timeout_nanos: u64) -> Value {
    json!({"ibc": {"send_packet": {
        "channel_id": channel_id,
        "data": base64_encode(data),
        "timeout": IbcTimeout::at_nanos(timeout_nanos),
    }}})
}

/// `CosmosMsg::Wasm(WasmMsg::Execute)` with no funds.
pub fn wasm_execute(contract_addr: &str, msg: &Value) -> Value {
    json!({"wasm": {"execute": {
        "contract_addr": contract_addr,
        "msg": base64_encode(msg.to_string().as_bytes()),
        "funds": [],
    }}})
}

/// A submessage's outcome as `reply` sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum SubMsgResult {
    /// `{events, data?, msg_responses}`
    Ok(Value),
    /// The error text; wasmd redacts a failed submessage's error to its code.
    Error(String),
}

/// The argument of `reply` (wasmvm `Reply`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Reply {
    pub id: u64,
    /// base64, the SubMsg's payload; absent when it was empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default)]
    pub gas_used: u64,
    pub result: SubMsgResult,
}

fn arg<T: DeserializeOwned>(what: &str, ptr: u32) -> Result<T, String> {
    let bz = unsafe { super::consume_region(ptr) };
    serde_json::from_slice(&bz).map_err(|e| format!("invalid {what}: {e}"))
}

/// For an `ibc_*` entry point, and for `reply`: (env, typed msg) -> answer.
pub fn run_ibc<M: DeserializeOwned, R: Serialize>(env: u32, msg: u32, f: fn(Env, M) -> Result<R, String>) -> u32 {
    let res = (|| {
        let env = arg::<Env>("env", env)?;
        let msg = arg::<M>("message", msg)?;
        f(env, msg)
    })();
    finish(res)
}

/// For an entry point that must never fail (`ibc_packet_ack` and
/// `ibc_packet_timeout`: an error fails the relayer's transaction, and the
/// packet stays stuck until the contract changes): an error from decoding or
/// from `f` becomes a successful answer with the attribute `error`.
pub fn run_ibc_infallible<M: DeserializeOwned>(env: u32, msg: u32, f: fn(Env, M) -> Result<IbcBasicResponse, String>) -> u32 {
    let res = (|| {
        let env = arg::<Env>("env", env)?;
        let msg = arg::<M>("message", msg)?;
        f(env, msg)
    })();
    let res = res.unwrap_or_else(|e| IbcBasicResponse {
        attributes: vec![Attribute { key: "error".to_string(), value: e }],
        ..Default::default()
    });
    match serde_json::to_vec(&json!({ "ok": res })) {
        Ok(bz) => release(bz),
        Err(_) => release(br#"{"ok":{"messages":[],"attributes":[],"events":[]}}"#.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReplyOn;

    /// Decoding then encoding gives the fixture back (keys in wasmvm's order).
    fn round_trip<T: Serialize + DeserializeOwned>(fixture: &str) -> T {
        let v: T = serde_json::from_str(fixture).unwrap();
        let want: Value = serde_json::from_str(fixture).unwrap();
        assert_eq!(serde_json::to_value(&v).unwrap(), want);
        v
    }

    const CHANNEL: &str = r#"{"endpoint":{"port_id":"wasm.wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s4hmalr","channel_id":"channel-0"},"counterparty_endpoint":{"port_id":"avs","channel_id":"channel-7"},"order":"ORDER_UNORDERED","version":"avs-1","connection_id":"connection-0"}"#;

    #[test]
    fn channel_messages() {
        let open: IbcChannelOpenMsg = round_trip(&format!(r#"{{"open_init":{{"channel":{CHANNEL}}}}}"#));
        assert_eq!(open.channel().order, IbcOrder::Unordered);
        assert_eq!(open.channel().counterparty_endpoint.port_id, "avs");
        let open: IbcChannelOpenMsg = round_trip(&format!(r#"{{"open_try":{{"channel":{CHANNEL},"counterparty_version":"avs-1"}}}}"#));
        assert!(matches!(open, IbcChannelOpenMsg::OpenTry { ref counterparty_version, .. } if counterparty_version == "avs-1"));
        let c: IbcChannelConnectMsg = round_trip(&format!(r#"{{"open_ack":{{"channel":{CHANNEL},"counterparty_version":"avs-1"}}}}"#));
        assert_eq!(c.channel().connection_id, "connection-0");
        let _: IbcChannelConnectMsg = round_trip(&format!(r#"{{"open_confirm":{{"channel":{CHANNEL}}}}}"#));
        let _: IbcChannelCloseMsg = round_trip(&format!(r#"{{"close_init":{{"channel":{CHANNEL}}}}}"#));
        let _: IbcChannelCloseMsg = round_trip(&format!(r#"{{"close_confirm":{{"channel":{CHANNEL}}}}}"#));
        let ordered = CHANNEL.replace("ORDER_UNORDERED", "ORDER_ORDERED");
        let open: IbcChannelOpenMsg = round_trip(&format!(r#"{{"open_init":{{"channel":{ordered}}}}}"#));
        assert_eq!(open.channel().order, IbcOrder::Ordered);
        assert!(serde_json::from_str::<IbcOrder>(r#""Unordered""#).is_err(), "only wasmvm's strings");
    }

    const PACKET: &str = r#"{"data":"eyJzZXJ2aWNlX2lkIjoiMSJ9","src":{"port_id":"wasm.x","channel_id":"channel-0"},"dest":{"port_id":"avs","channel_id":"channel-7"},"sequence":42,"timeout":{"block":null,"timestamp":"1700000600000000000"}}"#;

    #[test]
    fn packet_messages() {
        let r: IbcPacketReceiveMsg = round_trip(&format!(r#"{{"packet":{PACKET},"relayer":"wasm1relayer"}}"#));
        assert_eq!(r.packet.sequence, 42);
        assert_eq!(r.packet.timeout.timestamp.as_deref(), Some("1700000600000000000"));
        let a: IbcPacketAckMsg = round_trip(&format!(r#"{{"acknowledgement":{{"data":"eyJyZXN1bHQiOiJBUT09In0="}},"original_packet":{PACKET},"relayer":"wasm1relayer"}}"#));
        assert_eq!(a.acknowledgement.data, "eyJyZXN1bHQiOiJBUT09In0=");
        let _: IbcPacketTimeoutMsg = round_trip(&format!(r#"{{"packet":{PACKET},"relayer":"wasm1relayer"}}"#));
        // a block timeout, and no timestamp (Go's omitempty drops a zero)
        let t: IbcTimeout = round_trip(r#"{"block":{"revision":1,"height":100}}"#);
        assert_eq!(t.block, Some(IbcTimeoutBlock { revision: 1, height: 100 }));
        assert!(t.timestamp.is_none());
        assert!(serde_json::from_str::<IbcPacket>(&PACKET.replace("42", "\"42\"")).is_err(), "the sequence is a number");
    }

    #[test]
    fn responses() {
        let open = Some(IbcChannelOpenResponse { version: "avs-1".to_string() });
        assert_eq!(serde_json::to_string(&open).unwrap(), r#"{"version":"avs-1"}"#);
        let basic: IbcBasicResponse = Response::new().attr("action", "ack").into();
        assert_eq!(
            serde_json::to_string(&basic).unwrap(),
            r#"{"messages":[],"attributes":[{"key":"action","value":"ack"}],"events":[]}"#
        );
        let recv = IbcReceiveResponse::new(&ics04_result(&[1]), Response::new());
        assert_eq!(serde_json::to_string(&recv).unwrap(), r#"{"acknowledgement":"eyJyZXN1bHQiOiJBUT09In0=","messages":[],"attributes":[],"events":[]}"#);
        assert_eq!(ics04_result(&[1]), br#"{"result":"AQ=="}"#.to_vec());
    }

    #[test]
    fn messages() {
        assert_eq!(
            send_packet("channel-0", b"{}", 1_700_000_600_000_000_000).to_string(),
            r#"{"ibc":{"send_packet":{"channel_id":"channel-0","data":"e30=","timeout":{"block":null,"timestamp":"1700000600000000000"}}}}"#
        );
        assert_eq!(
            wasm_execute("wasm1cb", &json!({"avs_result": {}})).to_string(),
            r#"{"wasm":{"execute":{"contract_addr":"wasm1cb","funds":[],"msg":"eyJhdnNfcmVzdWx0Ijp7fX0="}}}"#
        );
        let r = Response::new().submessage_gas(7, json!({"x": 1}), 300_000, ReplyOn::Error);
        assert_eq!(
            serde_json::to_string(&r.messages[0]).unwrap(),
            r#"{"id":7,"payload":"","msg":{"x":1},"gas_limit":300000,"reply_on":"error"}"#
        );
    }

    #[test]
    fn replies() {
        let r: Reply = round_trip(r#"{"id":3,"gas_used":1234,"result":{"error":"codespace: wasm, code: 5"}}"#);
        assert_eq!(r.result, SubMsgResult::Error("codespace: wasm, code: 5".to_string()));
        let r: Reply = round_trip(r#"{"id":4,"payload":"AQ==","gas_used":0,"result":{"ok":{"events":[],"msg_responses":[]}}}"#);
        assert!(matches!(r.result, SubMsgResult::Ok(_)));
        // CosmWasm 1.x chains send neither payload nor gas_used
        let r: Reply = serde_json::from_str(r#"{"id":5,"result":{"ok":{"events":[]}}}"#).unwrap();
        assert_eq!((r.id, r.gas_used, r.payload), (5, 0, None));
    }
}
