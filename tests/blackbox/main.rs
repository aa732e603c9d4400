//! shardmq's black-box tests, one integration-test binary: every test starts
//! the real `shardmq` binary on its own free port and talks raw MQTT to it
//! (or drives mosquitto_pub/sub and paho-mqtt against it), so the tests run
//! in parallel. One area: `cargo test --test blackbox qos::`. See
//! `tests/README.md`.

mod common;

mod acl;
mod auth_password;
mod backpressure;
mod bad_input;
mod cli;
mod connect;
mod cross_shard;
mod dashboard;
mod deploy;
mod interop_mosquitto;
mod interop_paho;
mod interop_tls;
mod keepalive;
mod lifecycle;
mod logs;
mod metrics;
mod package;
mod park;
mod persistence;
mod persistence_disk;
mod persistence_kill9;
mod persistence_reshard;
mod persistence_sess;
mod qos;
mod retained;
mod session;
mod shared;
mod subscribe;
mod takeover;
mod tls;
mod v5_aliases;
mod v5_bad_input;
mod v5_connect;
mod v5_disconnect;
mod v5_flow;
mod v5_publish;
mod v5_session;
mod v5_subscribe;
mod v5_will;
mod websocket;
mod websocket_bad_input;
mod websocket_browser;
mod websocket_clients;
mod will;
