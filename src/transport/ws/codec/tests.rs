use super::*;
use crate::transport::ws::tests::client_frame;
use tungstenite::protocol::frame::coding::Control;

fn binary(payload: &[u8]) -> Vec<u8> {
    client_frame(OpCode::Data(Data::Binary), true, payload)
}

/// Feed every whole frame of `wire`; what came out, and the answers.
fn feed_all(inb: &mut Inbound, wire: &[u8]) -> (Vec<Result<Got, WsRefusal>>, Vec<u8>) {
    let (mut pos, mut got, mut out) = (0, Vec::new(), Vec::new());
    while pos < wire.len() {
        let w = match inb.whole_frame(&wire[pos..]) {
            Ok(w) => w.expect("a partial frame left"),
            Err(why) => {
                got.push(Err(why)); // refused on its header
                break;
            }
        };
        got.push(inb.feed(&wire[pos..pos + w.len], &w, &mut out));
        pos += w.len;
    }
    (got, out)
}

fn data(g: &Result<Got, WsRefusal>) -> &[u8] {
    match g {
        Ok(Got::Data(b)) => b,
        other => panic!("expected data, got {other:?}"),
    }
}

#[test]
fn a_frame_is_whole_only_when_all_of_it_is_there() {
    let inb = Inbound::new(1024);
    let wire = binary(b"\xC0\x00");
    for cut in 0..wire.len() {
        assert!(inb.whole_frame(&wire[..cut]).unwrap().is_none(), "{cut}");
    }
    let w = inb
        .whole_frame(&[wire.clone(), binary(b"next")].concat())
        .unwrap();
    assert_eq!(w.unwrap().len, wire.len());
}

#[test]
fn binary_payloads_are_unmasked_and_pings_answered() {
    let mut inb = Inbound::new(1024);
    let ping = client_frame(OpCode::Control(Control::Ping), true, b"hi");
    let wire = [binary(b"\x30\x03\x00\x01t"), ping, binary(b"")].concat();
    let (got, out) = feed_all(&mut inb, &wire);
    assert_eq!(data(&got[0]), b"\x30\x03\x00\x01t");
    assert!(matches!(got[1], Ok(Got::Nothing)));
    assert_eq!(data(&got[2]), b"");
    // The pong: final, opcode 0xA, unmasked, the ping's payload.
    assert_eq!(out, [0x8A, 0x02, b'h', b'i']);
}

#[test]
fn fragments_make_one_message() {
    let mut inb = Inbound::new(1024);
    let wire = [
        client_frame(OpCode::Data(Data::Binary), false, b"ab"),
        client_frame(OpCode::Control(Control::Ping), true, b""),
        client_frame(OpCode::Data(Data::Continue), false, b"cd"),
        client_frame(OpCode::Data(Data::Continue), true, b"ef"),
    ]
    .concat();
    let mut out = Vec::new();
    let mut pos = 0;
    let (mut idle, mut fragment, mut last) = (Vec::new(), Vec::new(), None);
    while let Some(w) = inb.whole_frame(&wire[pos..]).unwrap() {
        fragment.push(w.is_fragment());
        last = Some(inb.feed(&wire[pos..pos + w.len], &w, &mut out));
        idle.push(inb.idle());
        pos += w.len;
    }
    assert_eq!(data(&last.unwrap()), b"abcdef");
    assert_eq!(fragment, [true, false, true, true]);
    assert_eq!(
        idle,
        [false, false, false, true],
        "mid-message until the last"
    );
}

#[test]
fn a_close_is_answered_with_its_code() {
    let mut inb = Inbound::new(1024);
    let close = client_frame(OpCode::Control(Control::Close), true, &[0x03, 0xE8]);
    let (got, out) = feed_all(&mut inb, &close);
    assert!(matches!(got[0], Ok(Got::Closed)));
    assert_eq!(out, [0x88, 0x02, 0x03, 0xE8]);
    assert!(!inb.can_write());
}

#[test]
fn bad_frames_are_refused_with_the_cause() {
    let inb = Inbound::new(16);
    let big = binary(&[0; 17]);
    // On the header alone, before the payload is there.
    assert_eq!(inb.whole_frame(&big[..6]).unwrap_err(), WsRefusal::TooBig);
    let text = client_frame(OpCode::Data(Data::Text), true, b"hi");
    assert_eq!(inb.whole_frame(&text).unwrap_err(), WsRefusal::NotBinary);

    let cases = [
        (vec![0x82, 0x02, 0xC0, 0x00], WsRefusal::Unmasked),
        (
            client_frame(OpCode::Data(Data::Reserved(3)), true, b"x"),
            WsRefusal::Protocol,
        ),
        (
            client_frame(OpCode::Data(Data::Continue), true, b"x"),
            WsRefusal::Protocol,
        ),
        (
            client_frame(OpCode::Control(Control::Ping), false, b""),
            WsRefusal::Protocol,
        ),
    ];
    for (wire, why) in cases {
        let mut inb = Inbound::new(16);
        let (got, _) = feed_all(&mut inb, &wire);
        assert_eq!(got[0].as_ref().unwrap_err(), &why, "{wire:02x?}");
    }
    // Fragments adding up to more than the limit.
    let mut inb = Inbound::new(16);
    let wire = [
        client_frame(OpCode::Data(Data::Binary), false, &[0; 10]),
        client_frame(OpCode::Data(Data::Continue), true, &[0; 10]),
    ]
    .concat();
    let (got, _) = feed_all(&mut inb, &wire);
    assert_eq!(got[1].as_ref().unwrap_err(), &WsRefusal::TooBig);
}

#[test]
fn a_refusal_sends_its_close_code() {
    let mut inb = Inbound::new(16);
    let mut out = Vec::new();
    inb.refuse(WsRefusal::TooBig, &mut out);
    assert_eq!(&out[..4], [0x88, 2 + 7, 0x03, 0xF1]); // 1009, "too_big"
    assert_eq!(&out[4..], b"too_big");
    assert!(!inb.can_write());
}

#[test]
fn our_frames_are_binary_final_and_unmasked() {
    let mut out = Vec::new();
    binary_frame(&mut out, b"\xD0\x00");
    assert_eq!(out, [0x82, 0x02, 0xD0, 0x00]);
    let mut out = Vec::new();
    binary_frame(&mut out, &[7; 300]);
    assert_eq!(&out[..4], [0x82, 126, 0x01, 0x2C]);
    assert_eq!(out.len(), 4 + 300);
}
