//! From a CONNECT to a connected client: hand the socket to the owner shard
//! if needed, then on the owner check identity and credentials, resolve
//! takeover, attach or create the session and answer CONNACK (§3.1, §3.2).
//! Reading the CONNECT is `first.rs`; the CONNACK's terms `connack.rs`.

use super::connack::{Refused, Terms};
use super::handle::ConnHandle;
use super::Arrival;
use crate::auth::acl::{Access, Who};
use crate::auth::{AuthDecision, AuthRequest};
use crate::metrics::ShardMetrics;
use crate::plane::{
    self,
    messages::{Control, HandOff},
};
use crate::protocol::{Connect, MqttStr, ProtocolVersion, ReasonCode, Will};
use crate::session::{Message, Origin, SessionKey};
use crate::shard::Shard;
use crate::transport::Transport;
use std::rc::Rc;
use std::time::Instant;
use tracing::debug;

/// A client that passed CONNECT.
pub struct Admitted {
    pub key: SessionKey,
    pub handle: Rc<ConnHandle>,
    pub client_id: MqttStr,
    pub version: ProtocolVersion,
    pub listener: u8,
}

/// Move a connection to the shard that owns its client ID. The transport
/// goes detached (glommio streams are tied to their executor's ring); the
/// owner attaches it to its own ring.
pub fn hand_off(
    shard: &Shard,
    io: Transport,
    owner: usize,
    connect: Connect,
    rest: Vec<u8>,
    arrival: Arrival,
) {
    let conn = match io.detach() {
        Ok(conn) => conn,
        Err(e) => {
            debug!(shard = shard.id, error = %e.error, "cannot detach for hand-off: closing");
            return;
        }
    };
    let msg = Control::HandOff(Box::new(HandOff {
        conn,
        connect,
        rest,
        arrival,
    }));
    if shard.mesh.send_control(owner, msg) {
        ShardMetrics::inc(&shard.metrics.handoffs);
    } else {
        // The message, and with it the socket, was dropped: closed.
        ShardMetrics::inc(&shard.metrics.control_dropped);
    }
}

/// The owner shard for a CONNECT (an empty client ID is assigned here).
pub fn owner_of(shard: &Shard, connect: &Connect) -> usize {
    if connect.client_id.is_empty() {
        shard.id
    } else {
        shard.partitions.owner(connect.client_id.as_bytes())
    }
}

/// Check a CONNECT's credentials on the shard that accepted it. A password
/// check waits for a slot no later than `deadline` (the connect timeout).
/// Nothing to check when the user name is the client certificate's CN
/// (`certified`), nor for a CONNECT that `admit` will refuse for its
/// Authentication Method (0x8C).
pub async fn check_credentials(
    shard: &Shard,
    c: &Connect,
    certified: bool,
    deadline: Instant,
) -> AuthDecision {
    let props = c.properties.as_deref();
    if props.is_some_and(|p| p.authentication_method.is_some()) {
        return AuthDecision::NotAuthorized;
    }
    if certified {
        return AuthDecision::Allow;
    }
    let req = AuthRequest {
        client_id: &c.client_id,
        username: c.username.as_deref(),
        password: c.password.as_deref(),
    };
    shard.auth.check(&shard.metrics, &req, deadline).await
}

/// Decide a CONNECT on the owner shard, with the accepting shard's
/// credentials decision (`arrival.auth`). On success the CONNACK (and any
/// resent in-flight messages) are already queued on the handle.
pub fn admit(shard: &Shard, mut c: Connect, arrival: Arrival) -> Result<Admitted, Refused> {
    let listener = &shard.listeners[arrival.listener as usize];
    let auth_failed = |r: &Refused| {
        if r.code != ReasonCode::ServerBusy {
            ShardMetrics::inc(&listener.metrics.auth_failures);
        }
    };
    check_auth_method(shard, &c).inspect_err(auth_failed)?;
    let assigned = check_identifier(shard, &mut c)?;
    authenticated(shard, &c, arrival.auth).inspect_err(auth_failed)?;
    // The decoded ID points into the whole CONNECT frame (password, will);
    // the session keeps it for its lifetime, so keep only the ID's bytes.
    c.client_id = MqttStr::from(c.client_id.as_str());
    if shard.global.stopping() {
        ShardMetrics::inc(&shard.metrics.refused_server_unavailable);
        return Err(Refused::new(ReasonCode::ServerUnavailable, "shutting down"));
    }
    if !shard
        .global
        .try_add_connection(shard.cfg.limits.max_connections)
    {
        ShardMetrics::inc(&shard.metrics.refused_server_unavailable);
        return Err(Refused::new(ReasonCode::ServerBusy, "too many connections"));
    }
    if !listener.spec.try_add_connection() {
        shard.global.remove_connection();
        ShardMetrics::inc(&shard.metrics.refused_server_unavailable);
        debug!(shard = shard.id, listener = %listener.spec.label, "listener max_connections reached: CONNACK 3 / 0x89");
        return Err(Refused::new(
            ReasonCode::ServerBusy,
            "too many connections on this listener",
        ));
    }
    let terms = Terms::new(&shard.cfg.limits, &c, assigned.then(|| c.client_id.clone()));
    let handle = Rc::new(ConnHandle::new(
        shard.next_conn_id(),
        c.protocol,
        terms.keep_alive,
        shard.now_ms(),
    ));
    super::v5::configure(&handle, &c, &shard.cfg.limits);
    if !will_allowed(shard, &c) {
        ShardMetrics::inc(&listener.metrics.acl_denials);
        c.will = None;
    }
    let mut sessions = shard.sessions.borrow_mut();
    let opened = match c.protocol {
        ProtocolVersion::V5 => {
            sessions.open_with_expiry(&c.client_id, c.clean_session, terms.expiry, c.will, &handle)
        }
        _ => sessions.open(&c.client_id, c.clean_session, c.will, &handle),
    };
    sessions.set_user(opened.key, c.username.as_deref());
    drop(sessions);
    let (key, present) = (opened.key, opened.present);
    handle.send(&terms.connack(shard, present, c.protocol));
    if present {
        shard.sessions.borrow_mut().replay(key);
    }
    plane::forget_interest(shard, opened.lost);
    if let Some(w) = opened.displaced_will {
        publish_will(shard, key, *w);
    }
    shard.wheel.borrow_mut().add(&handle);
    shard
        .hist
        .borrow_mut()
        .connect_handshake
        .record(arrival.accepted_at.elapsed());
    ShardMetrics::inc(&shard.metrics.connections_total);
    ShardMetrics::inc(&shard.metrics.connections_current);
    ShardMetrics::inc(&listener.metrics.connections);
    debug!(shard = shard.id, client_id = %c.client_id, present, "connected");
    Ok(Admitted {
        key,
        handle,
        client_id: c.client_id,
        version: c.protocol,
        listener: arrival.listener,
    })
}

/// Publish the will of a connection of session `key` that ended.
pub fn publish_will(shard: &Shard, key: SessionKey, w: Will) {
    ShardMetrics::inc(&shard.metrics.wills_published);
    let origin = Origin::Session {
        shard: shard.id as u16,
        key,
    };
    plane::publish(shard, Message::from_will(w, origin));
}

/// With an ACL, a will whose topic the client may not write is dropped at
/// CONNECT and the CONNECT goes on: the client is never told, as with
/// Mosquitto, which checks when it sends the will (docs/security.md).
fn will_allowed(shard: &Shard, c: &Connect) -> bool {
    let sessions = shard.sessions.borrow();
    let (Some(acl), Some(w)) = (sessions.acl(), &c.will) else {
        return true;
    };
    let who = Who {
        client_id: &c.client_id,
        user: c.username.as_deref(),
    };
    if acl.allows(who, &w.topic, Access::Write) {
        return true;
    }
    ShardMetrics::inc(&shard.metrics.acl_denied_will);
    debug!(shard = shard.id, client_id = %c.client_id, topic = %w.topic, "ACL: will dropped, no write access to its topic");
    false
}

/// We support no enhanced authentication (§4.12): any Authentication
/// Method gets CONNACK 0x8C.
fn check_auth_method(shard: &Shard, c: &Connect) -> Result<(), Refused> {
    let props = c.properties.as_deref();
    let Some(method) = props.and_then(|p| p.authentication_method.as_ref()) else {
        return Ok(());
    };
    ShardMetrics::inc(&shard.metrics.refused_not_authorized);
    debug!(shard = shard.id, client_id = %c.client_id, %method, "[MQTT-4.12.0-1] unsupported authentication method: CONNACK 0x8C");
    Err(Refused::new(
        ReasonCode::BadAuthenticationMethod,
        "enhanced authentication is not supported",
    ))
}

/// Refuse an identifier the protocol does not allow; assign one for an
/// empty ID. True when the ID was assigned.
fn check_identifier(shard: &Shard, c: &mut Connect) -> Result<bool, Refused> {
    let refuse = |why: &'static str| {
        ShardMetrics::inc(&shard.metrics.refused_identifier);
        debug!(shard = shard.id, client_id = %c.client_id, "{why}: CONNACK 2 / 0x85");
        Err(Refused::new(ReasonCode::ClientIdentifierNotValid, why))
    };
    if c.protocol == ProtocolVersion::V3_1 && !(1..=23).contains(&c.client_id.len()) {
        return refuse("MQTT 3.1 client IDs are 1 to 23 characters");
    }
    if !c.client_id.is_empty() {
        return Ok(false);
    }
    // MQTT 5 allows an empty ID with clean start 0 as well [MQTT-3.1.3-7];
    // the assigned ID goes back in the CONNACK [MQTT-3.2.2-16].
    if !c.clean_session && c.protocol != ProtocolVersion::V5 {
        return refuse("[MQTT-3.1.3-8] empty client ID with clean session 0");
    }
    c.client_id = shard.assign_client_id(); // [MQTT-3.1.3-6]
    Ok(true)
}

/// Refuse a CONNECT whose credentials did not pass, counted by reason.
fn authenticated(shard: &Shard, c: &Connect, auth: AuthDecision) -> Result<(), Refused> {
    let m = &shard.metrics;
    match auth {
        AuthDecision::Allow => Ok(()),
        AuthDecision::Busy => {
            ShardMetrics::inc(&m.refused_server_unavailable);
            debug!(shard = shard.id, client_id = %c.client_id, "no password-check slot within the connect timeout: CONNACK 3 / 0x89");
            Err(Refused::new(
                ReasonCode::ServerBusy,
                "too many password checks waiting",
            ))
        }
        AuthDecision::BadCredentials => {
            ShardMetrics::inc(&m.refused_bad_credentials);
            debug!(shard = shard.id, client_id = %c.client_id, "bad user name or password: CONNACK 4 / 0x86");
            Err(Refused::new(
                ReasonCode::BadUserNameOrPassword,
                "bad user name or password",
            ))
        }
        AuthDecision::NotAuthorized => {
            ShardMetrics::inc(&m.refused_not_authorized);
            debug!(shard = shard.id, client_id = %c.client_id, "not authorized: CONNACK 5 / 0x87");
            Err(Refused::new(ReasonCode::NotAuthorized, "not authorized"))
        }
    }
}
