//! The decision table of [`ShardAuth::check`] (Mosquitto's semantics), and
//! reloads reaching a shard.

use super::verify::tests::on_executor;
use super::*;
use crate::config::AuthConfig;

fn setup(anon: bool, file: Option<&str>) -> (AuthSetup, Option<std::path::PathBuf>) {
    let path = file.map(|text| {
        let p = std::env::temp_dir().join(format!(
            "shardmq-auth-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&p, text).unwrap();
        p
    });
    let cfg = AuthConfig {
        allow_anonymous: anon,
        password_file: path.clone(),
        ..AuthConfig::default()
    };
    (AuthSetup::load(&cfg).unwrap(), path)
}

async fn ask(a: &ShardAuth, user: Option<&str>, pw: Option<&[u8]>) -> AuthDecision {
    let req = AuthRequest {
        client_id: "c",
        username: user,
        password: pw,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    a.check(&ShardMetrics::default(), &req, deadline).await
}

fn alice_line(pw: &str) -> String {
    format!(
        "alice:{}\n",
        password::PasswordHash::new_argon2id(pw.as_bytes()).unwrap()
    )
}

#[test]
fn without_a_password_file_a_user_name_counts_as_anonymous() {
    on_executor(|| async {
        use AuthDecision::*;
        let open = ShardAuth::new(&setup(true, None).0);
        assert_eq!(ask(&open, None, None).await, Allow);
        assert_eq!(ask(&open, Some("bob"), Some(b"x")).await, Allow);
        let closed = ShardAuth::new(&setup(false, None).0);
        assert_eq!(ask(&closed, None, None).await, NotAuthorized);
        assert_eq!(ask(&closed, Some("bob"), Some(b"x")).await, BadCredentials);
    });
}

#[test]
fn with_a_password_file_a_user_name_must_match() {
    on_executor(|| async {
        use AuthDecision::*;
        for anon in [true, false] {
            let (s, path) = setup(anon, Some(&alice_line("secret")));
            let a = ShardAuth::new(&s);
            assert_eq!(ask(&a, Some("alice"), Some(b"secret")).await, Allow);
            assert_eq!(ask(&a, Some("alice"), Some(b"wrong")).await, BadCredentials);
            assert_eq!(ask(&a, Some("alice"), None).await, BadCredentials);
            assert_eq!(
                ask(&a, Some("mallory"), Some(b"secret")).await,
                BadCredentials
            );
            let anonymous = if anon { Allow } else { NotAuthorized };
            assert_eq!(ask(&a, None, None).await, anonymous);
            std::fs::remove_file(path.unwrap()).unwrap();
        }
    });
}

#[test]
fn a_reload_reaches_the_shard_at_its_refresh_and_a_bad_file_is_refused() {
    on_executor(|| async {
        use AuthDecision::*;
        let (s, path) = setup(false, Some(&alice_line("old")));
        let path = path.unwrap();
        let mut hooks = Hooks::default();
        s.add_reload_hook(&mut hooks);
        let a = ShardAuth::new(&s);
        assert_eq!(ask(&a, Some("alice"), Some(b"old")).await, Allow);
        std::fs::write(&path, alice_line("new")).unwrap();
        assert!(hooks.run().is_empty());
        assert_eq!(
            ask(&a, Some("alice"), Some(b"old")).await,
            Allow,
            "until the tick"
        );
        a.refresh();
        assert_eq!(ask(&a, Some("alice"), Some(b"old")).await, BadCredentials);
        assert_eq!(ask(&a, Some("alice"), Some(b"new")).await, Allow);
        std::fs::write(&path, "# ok\nalice:clear-text\n").unwrap();
        let failed = hooks.run();
        assert_eq!(failed.len(), 1);
        let want = format!("{}:2: ", path.display());
        assert!(failed[0].contains(&want), "{failed:?}");
        a.refresh();
        assert_eq!(
            ask(&a, Some("alice"), Some(b"new")).await,
            Allow,
            "the old file stays"
        );
        std::fs::remove_file(path).unwrap();
    });
}

#[test]
fn a_bad_file_stops_start_up_naming_the_line() {
    let dir = std::env::temp_dir().join(format!("shardmq-auth-bad-{}", std::process::id()));
    std::fs::write(&dir, "alice\n").unwrap();
    let cfg = AuthConfig {
        password_file: Some(dir.clone()),
        ..AuthConfig::default()
    };
    let e = AuthSetup::load(&cfg).err().unwrap();
    assert_eq!(e, format!("{}:1: expected user:hash", dir.display()));
    std::fs::remove_file(dir).unwrap();
}
