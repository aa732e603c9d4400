//! WebSocket frames in and out, by tungstenite. Frames from the client are
//! handed to it one whole frame at a time, from memory ([`Memory`]): it
//! unmasks them, answers pings and closes, reassembles fragments and checks
//! RFC 6455, but never holds a partial frame of its own. What is buffered
//! between reads is ours (`WsTransport::raw`), so it can travel with a
//! detached connection, and a parked socket is decoded the same way.

use crate::metrics::WsRefusal;
use bytes::Bytes;
use std::io::{self, Cursor, Read, Write};
use tungstenite::error::{Error, ProtocolError};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, FrameHeader, Utf8Bytes};
use tungstenite::protocol::{Message, Role, WebSocketConfig, WebSocketContext};

/// Bytes beyond `limits.max_packet_size` that one frame (or one fragmented
/// message) may carry: room for small packets packed beside the largest.
pub const FRAME_SLACK: usize = 16 * 1024;

/// tungstenite's read chunk. Its read buffer is allocated up front for
/// every connection (128 KiB by default); frames come from memory here, so
/// a small chunk costs only a few more copies of a large frame.
const READ_CHUNK: usize = 512;

/// After a frame this large the decoder is made afresh at the next message
/// boundary: tungstenite keeps its largest frame's allocation for reuse.
const SHRINK_AFTER: usize = 4096;

/// The receive side of one WebSocket connection.
#[derive(Debug)]
pub struct Inbound {
    ctx: WebSocketContext,
    /// Inside a fragmented message (tungstenite holds its first fragments).
    mid_message: bool,
    max_payload: usize,
}

/// A whole frame at the front of a buffer.
#[derive(Debug)]
pub struct Whole {
    /// Header and payload.
    pub len: usize,
    header: FrameHeader,
    payload: usize,
}

impl Whole {
    /// A piece of a fragmented message (RFC 6455 §5.4).
    pub fn is_fragment(&self) -> bool {
        !self.header.is_final || self.header.opcode == OpCode::Data(Data::Continue)
    }
}

/// What one whole frame came to.
#[derive(Debug)]
pub enum Got {
    /// MQTT bytes: a binary message's payload.
    Data(Bytes),
    /// Nothing for the connection: a control frame (any answer is in the
    /// output), or a fragment taken in.
    Nothing,
    /// The client closed; our closing answer is in the output.
    Closed,
}

impl Inbound {
    /// Frames (and fragmented messages) of up to `max_payload` bytes.
    pub fn new(max_payload: usize) -> Inbound {
        Inbound {
            ctx: context(max_payload),
            mid_message: false,
            max_payload,
        }
    }

    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// The whole frame at the start of `raw`, if all of it is there. A
    /// frame is refused on its header alone when it is too large (before
    /// we buffer it) or a text frame [MQTT-6.0.0-1].
    pub fn whole_frame(&self, raw: &[u8]) -> Result<Option<Whole>, WsRefusal> {
        let mut at = Cursor::new(raw);
        let (header, payload) = match FrameHeader::parse(&mut at) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(_) => return Err(WsRefusal::Protocol),
        };
        if payload > self.max_payload as u64 {
            return Err(WsRefusal::TooBig);
        }
        if header.opcode == OpCode::Data(Data::Text) {
            return Err(WsRefusal::NotBinary);
        }
        let payload = payload as usize;
        let len = at.position() as usize + payload;
        Ok((raw.len() >= len).then_some(Whole {
            len,
            header,
            payload,
        }))
    }

    /// Decode one whole frame (`frame` is its bytes); answers to the client
    /// (pong, close) are appended to `out` as frames.
    pub fn feed(&mut self, frame: &[u8], w: &Whole, out: &mut Vec<u8>) -> Result<Got, WsRefusal> {
        let mut io = Memory { src: frame, out };
        let got = match self.ctx.read(&mut io) {
            Ok(Message::Binary(b)) => Got::Data(b),
            Ok(Message::Ping(_)) => {
                let _ = self.ctx.flush(&mut io); // the pong tungstenite queued
                Got::Nothing
            }
            Ok(Message::Close(_)) => {
                let _ = self.ctx.flush(&mut io); // the closing answer
                Got::Closed
            }
            Ok(Message::Text(_)) => return Err(WsRefusal::NotBinary),
            Ok(Message::Pong(_) | Message::Frame(_)) => Got::Nothing,
            // It wanted the next fragment: this one is taken in.
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Got::Nothing,
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => Got::Closed,
            Err(Error::Capacity(_)) => return Err(WsRefusal::TooBig),
            Err(Error::Protocol(ProtocolError::UnmaskedFrameFromClient)) => {
                return Err(WsRefusal::Unmasked)
            }
            Err(_) => return Err(WsRefusal::Protocol),
        };
        if let OpCode::Data(_) = w.header.opcode {
            self.mid_message = !w.header.is_final;
        }
        if w.payload > SHRINK_AFTER && self.idle() {
            self.ctx = context(self.max_payload);
        }
        Ok(got)
    }

    /// Close for `why`: the close frame with its code goes to `out`.
    pub fn refuse(&mut self, why: WsRefusal, out: &mut Vec<u8>) {
        let frame = CloseFrame {
            code: close_code(why),
            reason: Utf8Bytes::from_static(why.name()),
        };
        let _ = self.ctx.close(&mut Memory { src: &[], out }, Some(frame));
    }

    /// Start our side of the close handshake (normal closure), once.
    pub fn close(&mut self, out: &mut Vec<u8>) {
        if self.ctx.can_write() {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: Utf8Bytes::from_static(""),
            };
            let _ = self.ctx.close(&mut Memory { src: &[], out }, Some(frame));
        }
    }

    /// Data frames may still be sent: no close frame went either way.
    pub fn can_write(&self) -> bool {
        self.ctx.can_write()
    }

    /// At a message boundary, not closing: a fresh decoder would do.
    pub fn idle(&self) -> bool {
        !self.mid_message && self.ctx.can_write()
    }
}

/// The close code for a refusal (RFC 6455 §7.4.1).
fn close_code(why: WsRefusal) -> CloseCode {
    match why {
        WsRefusal::TooBig => CloseCode::Size,
        WsRefusal::NotBinary => CloseCode::Unsupported,
        WsRefusal::Unmasked | WsRefusal::Protocol => CloseCode::Protocol,
    }
}

fn context(max_payload: usize) -> WebSocketContext {
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_CHUNK)
        // Frames go straight to our output buffer, which the transport drains.
        .write_buffer_size(0)
        .max_frame_size(Some(max_payload))
        .max_message_size(Some(max_payload));
    WebSocketContext::new(Role::Server, Some(config))
}

/// One binary frame carrying `payload`, appended to `out`: final and, as
/// a server's frames must be, unmasked (RFC 6455 §5.1).
pub fn binary_frame(out: &mut Vec<u8>, payload: &[u8]) {
    let h = FrameHeader {
        opcode: OpCode::Data(Data::Binary),
        ..FrameHeader::default()
    };
    let _ = h.format(payload.len() as u64, out); // into a Vec: cannot fail
    out.extend_from_slice(payload);
}

/// tungstenite's stream: reads the frame in hand, writes to our output
/// buffer, never touches the socket (and so never blocks).
struct Memory<'a> {
    src: &'a [u8],
    out: &'a mut Vec<u8>,
}

impl Read for Memory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.src.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.src.read(buf)?;
        Ok(n)
    }
}

impl Write for Memory<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
