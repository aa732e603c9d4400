//! Minimal MQTT 3.1/3.1.1 packet builders and a PUBLISH parser, written for
//! the tests only (independent of the broker's own codec).

/// Encodes the variable-length "remaining length" (spec 2.2.3).
pub fn remaining_length(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

/// A whole packet: fixed-header byte, remaining length, body.
pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    out.extend(remaining_length(body.len()));
    out.extend_from_slice(body);
    out
}

/// A length-prefixed string (spec 1.5.3), bytes taken as given.
pub fn mqtt_str(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

#[derive(Clone, Debug)]
pub struct Will {
    pub topic: Vec<u8>,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
}

/// CONNECT builder. Defaults: "MQTT" level 4, clean session, keep-alive 60.
#[derive(Clone, Debug)]
pub struct Connect {
    pub protocol_name: Vec<u8>,
    pub level: u8,
    pub client_id: Vec<u8>,
    pub clean: bool,
    pub keepalive: u16,
    pub will: Option<Will>,
    pub username: Option<Vec<u8>>,
    pub password: Option<Vec<u8>>,
    /// OR-ed into the computed connect flags (to set reserved/odd bits).
    pub extra_flags: u8,
    /// MQTT 5 (level 5 only): the encoded property blocks, length included
    /// (see `v5::Props`); written as empty blocks when `None`.
    pub props: Option<Vec<u8>>,
    pub will_props: Option<Vec<u8>>,
}

impl Connect {
    pub fn new(client_id: &str) -> Connect {
        Connect {
            protocol_name: b"MQTT".to_vec(),
            level: 4,
            client_id: client_id.as_bytes().to_vec(),
            clean: true,
            keepalive: 60,
            will: None,
            username: None,
            password: None,
            extra_flags: 0,
            props: None,
            will_props: None,
        }
    }

    /// MQTT 5.0: "MQTT" level 5, clean start, keep-alive 60, no properties.
    #[allow(dead_code)] // until the MQTT 5 tests use it
    pub fn v5(client_id: &str) -> Connect {
        Connect::new(client_id).protocol(b"MQTT", 5)
    }

    /// CONNECT properties (level 5), from `v5::Props::build`.
    #[allow(dead_code)] // until the MQTT 5 tests use it
    pub fn props(mut self, block: Vec<u8>) -> Connect {
        self.props = Some(block);
        self
    }

    /// Will properties (level 5), from `v5::Props::build`.
    #[allow(dead_code)] // until the MQTT 5 tests use it
    pub fn will_props(mut self, block: Vec<u8>) -> Connect {
        self.will_props = Some(block);
        self
    }

    /// MQTT 3.1: protocol name "MQIsdp", level 3.
    pub fn v31(client_id: &str) -> Connect {
        Connect::new(client_id).protocol(b"MQIsdp", 3)
    }

    pub fn protocol(mut self, name: &[u8], level: u8) -> Connect {
        self.protocol_name = name.to_vec();
        self.level = level;
        self
    }

    pub fn clean(mut self, clean: bool) -> Connect {
        self.clean = clean;
        self
    }

    pub fn keepalive(mut self, secs: u16) -> Connect {
        self.keepalive = secs;
        self
    }

    pub fn will(mut self, topic: &str, payload: &[u8], qos: u8, retain: bool) -> Connect {
        self.will = Some(Will {
            topic: topic.as_bytes().to_vec(),
            payload: payload.to_vec(),
            qos,
            retain,
        });
        self
    }

    pub fn user(mut self, name: &str) -> Connect {
        self.username = Some(name.as_bytes().to_vec());
        self
    }

    pub fn password(mut self, pass: &str) -> Connect {
        self.password = Some(pass.as_bytes().to_vec());
        self
    }

    pub fn flags_or(mut self, bits: u8) -> Connect {
        self.extra_flags |= bits;
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let mut flags = self.extra_flags;
        if self.clean {
            flags |= 0x02;
        }
        if let Some(w) = &self.will {
            flags |= 0x04 | (w.qos << 3);
            if w.retain {
                flags |= 0x20;
            }
        }
        if self.password.is_some() {
            flags |= 0x40;
        }
        if self.username.is_some() {
            flags |= 0x80;
        }
        let mut body = mqtt_str(&self.protocol_name);
        body.push(self.level);
        body.push(flags);
        body.extend(self.keepalive.to_be_bytes());
        let v5 = self.level == 5;
        if v5 {
            body.extend(self.props.clone().unwrap_or(vec![0]));
        }
        body.extend(mqtt_str(&self.client_id));
        if let Some(w) = &self.will {
            if v5 {
                body.extend(self.will_props.clone().unwrap_or(vec![0]));
            }
            body.extend(mqtt_str(&w.topic));
            body.extend(mqtt_str(&w.payload));
        }
        if let Some(u) = &self.username {
            body.extend(mqtt_str(u));
        }
        if let Some(p) = &self.password {
            body.extend(mqtt_str(p));
        }
        packet(0x10, &body)
    }
}

/// CONNACK bytes: `20 02 sp rc`.
pub fn connack(session_present: bool, rc: u8) -> Vec<u8> {
    vec![0x20, 0x02, session_present as u8, rc]
}

/// PUBLISH from its parts; `pid` is written only when qos > 0.
pub fn publish(topic: &str, payload: &[u8], qos: u8, retain: bool, pid: u16) -> Vec<u8> {
    let first = 0x30 | (qos << 1) | retain as u8;
    let pid = if qos > 0 { Some(pid) } else { None };
    publish_raw(first, topic.as_bytes(), pid, payload)
}

/// PUBLISH with full control over the first byte and topic bytes.
pub fn publish_raw(first: u8, topic: &[u8], pid: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut body = mqtt_str(topic);
    if let Some(pid) = pid {
        body.extend(pid.to_be_bytes());
    }
    body.extend_from_slice(payload);
    packet(first, &body)
}

fn with_pid(first: u8, pid: u16) -> Vec<u8> {
    let [hi, lo] = pid.to_be_bytes();
    vec![first, 0x02, hi, lo]
}

pub fn puback(pid: u16) -> Vec<u8> {
    with_pid(0x40, pid)
}
pub fn pubrec(pid: u16) -> Vec<u8> {
    with_pid(0x50, pid)
}
pub fn pubrel(pid: u16) -> Vec<u8> {
    with_pid(0x62, pid)
}
pub fn pubcomp(pid: u16) -> Vec<u8> {
    with_pid(0x70, pid)
}
pub fn unsuback(pid: u16) -> Vec<u8> {
    with_pid(0xb0, pid)
}

pub fn subscribe(pid: u16, filters: &[(&str, u8)]) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    for (f, q) in filters {
        body.extend(mqtt_str(f.as_bytes()));
        body.push(*q);
    }
    packet(0x82, &body)
}

pub fn suback(pid: u16, codes: &[u8]) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    body.extend_from_slice(codes);
    packet(0x90, &body)
}

pub fn unsubscribe(pid: u16, filters: &[&str]) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    for f in filters {
        body.extend(mqtt_str(f.as_bytes()));
    }
    packet(0xa2, &body)
}

pub const PINGREQ: [u8; 2] = [0xc0, 0x00];
pub const PINGRESP: [u8; 2] = [0xd0, 0x00];
pub const DISCONNECT: [u8; 2] = [0xe0, 0x00];

/// A PUBLISH received from the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub first: u8,
    pub topic: String,
    pub pid: Option<u16>,
    pub payload: Vec<u8>,
}

/// The flags of a received PUBLISH's first byte, for the 3.1.1 and the
/// MQTT 5 `Publish` alike.
pub trait PublishFlags {
    fn first(&self) -> u8;
    fn qos(&self) -> u8 {
        (self.first() >> 1) & 3
    }
    fn dup(&self) -> bool {
        self.first() & 0x08 != 0
    }
    fn retain(&self) -> bool {
        self.first() & 0x01 != 0
    }
}

impl PublishFlags for Publish {
    fn first(&self) -> u8 {
        self.first
    }
}

impl Publish {
    pub fn payload_str(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// Parses a PUBLISH body; panics (test failure) on anything malformed.
    pub fn parse(first: u8, body: &[u8]) -> Publish {
        assert_eq!(first >> 4, 3, "not a PUBLISH: {}", hex(&[first]));
        let qos = (first >> 1) & 3;
        assert!(qos < 3, "broker sent QoS 3: {}", hex(body));
        assert!(body.len() >= 2, "short PUBLISH: {}", hex(body));
        let tlen = u16::from_be_bytes([body[0], body[1]]) as usize;
        let mut at = 2 + tlen;
        assert!(body.len() >= at, "PUBLISH topic overruns: {}", hex(body));
        let topic = String::from_utf8(body[2..at].to_vec()).expect("topic is not UTF-8");
        let pid = if qos > 0 {
            assert!(
                body.len() >= at + 2,
                "PUBLISH without packet id: {}",
                hex(body)
            );
            let pid = u16::from_be_bytes([body[at], body[at + 1]]);
            // [MQTT-2.3.1-1] non-zero packet identifier
            assert_ne!(pid, 0, "broker sent QoS {qos} PUBLISH with packet id 0");
            at += 2;
            Some(pid)
        } else {
            None
        };
        Publish {
            first,
            topic,
            pid,
            payload: body[at..].to_vec(),
        }
    }
}

/// "20 02 00 00" style rendering for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(64).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 64 {
        format!(" ... ({} bytes)", bytes.len())
    } else {
        String::new()
    };
    shown.join(" ") + &more
}
