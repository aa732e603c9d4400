//! The hot path allocates nothing: a v5 PUBLISH without properties decodes
//! to slices of its frame and `properties: None`, and acks with Success and
//! no properties decode and encode without the heap. Proven by counting the
//! allocations of this thread with the test binary's global allocator.

use super::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use ProtocolVersion::V5;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: allocations during thread teardown are not ours to count.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds
// GlobalAlloc's contract; counting touches only a const-initialized
// thread-local Cell, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `dealloc`; `new_size` is the caller's promise.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (ALLOCS.with(Cell::get) - before, out)
}

/// `bytes` as a frame already shared (as the broker's is once sliced):
/// a `Bytes` made from a `Vec` allocates its shared header on the first
/// split, which is the frame's cost, not the decoder's.
fn shared_frame(bytes: &[u8]) -> (Bytes, FrameHeader) {
    let frame = Bytes::copy_from_slice(bytes);
    drop(frame.slice(0..1));
    let header = parse_frame_header(&frame, usize::MAX).unwrap().unwrap();
    (frame, header)
}

#[test]
fn v5_publish_without_properties_decodes_without_allocating() {
    for first in [0x30u8, 0x32, 0x3D] {
        let id: &[u8] = if first & 0x06 == 0 { &[] } else { &[0, 7] };
        let bytes = frame(first, &concat(&[&lp(b"a/b"), id, &[0], b"payload"]));
        let (frame, header) = shared_frame(&bytes);
        let (n, packet) = allocations(|| decode_packet(frame, &header, V5));
        let Ok(Packet::Publish(p)) = packet else {
            panic!("{packet:?}")
        };
        assert_eq!(p.properties, None);
        assert_eq!(n, 0, "first byte {first:#04x}");
    }
    // The counter sees the decoder's allocations: properties are one Arc.
    let expiry = [5, 0x02, 0, 0, 0, 9];
    let bytes = frame(0x30, &concat(&[&lp(b"a/b"), &expiry, b"payload"]));
    let (frame, header) = shared_frame(&bytes);
    let (n, packet) = allocations(|| decode_packet(frame, &header, V5));
    assert!(packet.is_ok());
    assert_eq!(n, 1);
}

#[test]
fn v5_publish_with_only_a_topic_alias_decodes_without_allocating() {
    // The alias is the Publish's own field: setting a mapping (topic and
    // alias) and using one (empty topic, alias) both stay off the heap.
    for topic in [&b"a/b"[..], b""] {
        for first in [0x30u8, 0x32] {
            let id: &[u8] = if first & 0x06 == 0 { &[] } else { &[0, 7] };
            let body = concat(&[&lp(topic), id, &[3, 0x23, 0, 4], b"payload"]);
            let (frame, header) = shared_frame(&frame(first, &body));
            let (n, packet) = allocations(|| decode_packet(frame, &header, V5));
            let Ok(Packet::Publish(p)) = packet else {
                panic!("{packet:?}")
            };
            assert_eq!((p.topic_alias, p.properties), (Some(4), None));
            assert_eq!(n, 0, "topic {topic:?}, first byte {first:#04x}");
        }
    }
}

#[test]
fn v5_plain_acks_decode_and_encode_without_allocating() {
    for bytes in [
        [0x40u8, 2, 0, 1],
        [0x50, 2, 0, 1],
        [0x62, 2, 0, 1],
        [0x70, 2, 0, 1],
    ] {
        let (frame, header) = shared_frame(&bytes);
        let (n, packet) = allocations(|| decode_packet(frame, &header, V5));
        assert_eq!(n, 0, "{bytes:02x?}");
        let packet = packet.unwrap();
        let mut out = [0u8; 4];
        let (n, ()) = allocations(|| encode(&packet, V5, &mut &mut out[..]));
        assert_eq!(n, 0);
        assert_eq!(out, bytes);
    }
}

#[test]
fn v5_encode_publish_with_properties_does_not_allocate() {
    let props = super::v5_roundtrip::full_publish_properties();
    let ids = [4u32, 300];
    let p = PublishRef {
        topic: "",
        payload: b"x",
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        packet_id: 1,
        properties: Some(&props),
        topic_alias: Some(2),
        subscription_ids: &ids,
    };
    let mut out = Vec::with_capacity(1024);
    let (n, ()) = allocations(|| encode_publish(&p, V5, &mut out));
    assert_eq!(n, 0);
    assert_eq!(out.len(), publish_len(&p, V5));
}
