//! CONNECT/CONNACK and, for subscribers, SUBSCRIBE/SUBACK, before the
//! client counts as connected. The caller bounds it with the connect
//! timeout; `stage` says what we were waiting for if it fires.

use super::readbuf::ReadBuf;
use super::{Role, Spec};
use crate::clock::now_ns;
use crate::net::{self, Stream};
use crate::runtime::ThreadCtx;
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use shardmq_protocol::{
    encode, ConnAck, Connect, ConnectProperties, MqttStr, Packet, ProtocolVersion, QoS, ReasonCode,
    Subscribe, SubscriptionOptions,
};
use std::cell::Cell;

/// Packet identifier of the one SUBSCRIBE each subscriber sends.
const SUBSCRIBE_ID: u16 = 1;
/// Topic aliases every MQTT 5 client with `--topic-alias` allows the broker.
const TOPIC_ALIAS_MAXIMUM: u16 = 16;

pub struct Handshake {
    pub stream: Stream,
    pub connack_ns: u64,
    /// QoS 1/2 window: `--inflight`, lowered to the broker's Receive
    /// Maximum (MQTT 5) so the broker never has to refuse a PUBLISH.
    pub window: usize,
    /// QoS the SUBACK granted (subscribers only).
    pub granted: Option<QoS>,
    /// PUBLISHes that arrived before the SUBACK (a persistent session's
    /// backlog); the reader handles them first.
    pub early: Vec<Packet>,
}

pub async fn run(
    ctx: &ThreadCtx,
    spec: &Spec,
    rb: &mut ReadBuf,
    stage: &Cell<&'static str>,
) -> Result<Handshake, String> {
    let cfg = &ctx.cfg;
    let mut stream = net::open(cfg, spec.source, stage).await?;
    let mut out = Vec::with_capacity(64);
    encode(
        &Packet::Connect(Box::new(connect_packet(ctx, spec))),
        cfg.version,
        &mut out,
    );
    // Over TCP the first write also waits for the TCP handshake (see
    // net::connect).
    send(&mut stream, &out)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stage.set("CONNACK");
    let window = match read_packet(ctx, &mut stream, rb).await? {
        Packet::ConnAck(a) => accepted(ctx, &a)?,
        other => return Err(format!("expected CONNACK, got {}", other.name())),
    };
    let mut hs = Handshake {
        stream,
        connack_ns: now_ns(),
        window,
        granted: None,
        early: Vec::new(),
    };
    if let Role::Subscriber { filter } = &spec.role {
        stage.set("SUBACK");
        hs.granted = Some(subscribe(ctx, &mut hs, rb, filter).await?);
    }
    Ok(hs)
}

/// Check a CONNACK; returns the QoS 1/2 window the broker allows.
fn accepted(ctx: &ThreadCtx, a: &ConnAck) -> Result<usize, String> {
    if a.code != ReasonCode::Success {
        return Err(format!(
            "CONNACK refused: 0x{:02X} {}",
            a.code as u8,
            a.code.name()
        ));
    }
    let props = a.properties.as_deref();
    let aliases = props.and_then(|p| p.topic_alias_maximum).unwrap_or(0);
    if ctx.cfg.topic_alias && aliases == 0 {
        return Err(
            "--topic-alias: the broker allows no topic aliases (Topic Alias Maximum 0)".into(),
        );
    }
    let receive_max = props.and_then(|p| p.receive_maximum).unwrap_or(u16::MAX);
    Ok(ctx.cfg.load.inflight.min(usize::from(receive_max)))
}

fn connect_packet(ctx: &ThreadCtx, spec: &Spec) -> Connect {
    let cfg = &ctx.cfg;
    Connect {
        protocol: cfg.version,
        clean_session: cfg.clean_session,
        keep_alive: cfg.keepalive,
        client_id: MqttStr::from(spec.client_id.as_str()),
        will: None,
        username: cfg.username.as_deref().map(MqttStr::from),
        password: cfg
            .password
            .as_ref()
            .map(|p| Bytes::from(p.clone().into_bytes())),
        properties: (cfg.version == ProtocolVersion::V5).then(|| {
            Box::new(ConnectProperties {
                // Persistent sessions outlive the connection as in 3.1.1.
                session_expiry_interval: (!cfg.clean_session).then_some(u32::MAX),
                topic_alias_maximum: cfg.topic_alias.then_some(TOPIC_ALIAS_MAXIMUM),
                ..ConnectProperties::default()
            })
        }),
    }
}

async fn subscribe(
    ctx: &ThreadCtx,
    hs: &mut Handshake,
    rb: &mut ReadBuf,
    filter: &str,
) -> Result<QoS, String> {
    let sub = Subscribe {
        packet_id: SUBSCRIBE_ID,
        filters: vec![(
            MqttStr::from(filter),
            SubscriptionOptions::qos(ctx.cfg.load.qos),
        )],
        properties: None,
    };
    let mut out = Vec::with_capacity(filter.len() + 16);
    encode(&Packet::Subscribe(sub), ctx.cfg.version, &mut out);
    send(&mut hs.stream, &out)
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    loop {
        match read_packet(ctx, &mut hs.stream, rb).await? {
            Packet::SubAck(a) if a.packet_id == SUBSCRIBE_ID => {
                return match a.codes.as_slice() {
                    [c] if !c.is_error() => Ok(QoS::from_u8(*c as u8).expect("granted QoS")),
                    [c] => Err(format!(
                        "SUBACK refused filter {filter:?} (0x{:02X} {})",
                        *c as u8,
                        c.name()
                    )),
                    codes => Err(format!("SUBACK with {} codes for 1 filter", codes.len())),
                };
            }
            p @ Packet::Publish(_) => hs.early.push(p),
            other => return Err(format!("expected SUBACK, got {}", other.name())),
        }
    }
}

/// Write all of `bytes` and flush: TLS may keep records back otherwise.
pub async fn send(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Read until one whole packet is there.
pub async fn read_packet(
    ctx: &ThreadCtx,
    stream: &mut Stream,
    rb: &mut ReadBuf,
) -> Result<Packet, String> {
    loop {
        match rb.next_packet(ctx.cfg.version) {
            Ok(Some(p)) => return Ok(p),
            Ok(None) => {}
            Err(e) => return Err(format!("malformed packet from broker: {e}")),
        }
        match stream.read(rb.spare()).await {
            Ok(0) => return Err("connection closed by broker during handshake".into()),
            Ok(n) => rb.advance(n),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}
