//! The matcher against Mosquitto's semantics (`mosquitto_acl_check_default`
//! in its `security_default.c`), and subscription judging.

use super::*;

fn acl(text: &str) -> Acl {
    Acl::new(&parse(text.as_bytes()).unwrap())
}

fn who<'a>(client_id: &'a str, user: Option<&'a str>) -> Who<'a> {
    Who { client_id, user }
}

fn can(a: &Acl, w: Who<'_>, topic: &str, access: Access) -> bool {
    a.allows(w, topic, access)
}

const R: Access = Access::Read;
const W: Access = Access::Write;

#[test]
fn an_empty_file_denies_everything() {
    let a = acl("# nothing\n");
    assert!(!can(&a, who("c", None), "a", R));
    assert!(!can(&a, who("c", Some("u")), "a", W));
}

#[test]
fn anonymous_section_is_for_clients_without_a_user_name() {
    let a = acl("topic read pub/#\nuser alice\ntopic alice/#\n");
    let anon = who("c", None);
    assert!(can(&a, anon, "pub/x", R));
    assert!(can(&a, anon, "pub", R), "a/# matches a");
    assert!(!can(&a, anon, "pub/x", W), "read only");
    assert!(!can(&a, anon, "alice/x", R));
    let alice = who("c", Some("alice"));
    assert!(can(&a, alice, "alice/x", R) && can(&a, alice, "alice/x", W));
    assert!(
        !can(&a, alice, "pub/x", R),
        "the anonymous rules are not alice's"
    );
    let bob = who("c", Some("bob"));
    assert!(
        !can(&a, bob, "pub/x", R),
        "a user without a section has only patterns"
    );
}

#[test]
fn plus_hash_and_empty_levels() {
    let a = acl("topic read a/+/c\ntopic write x/#\ntopic read +\ntopic read /+\n");
    let w = who("c", None);
    assert!(can(&a, w, "a/b/c", R));
    assert!(can(&a, w, "a//c", R), "+ matches an empty level");
    assert!(!can(&a, w, "a/b/c/d", R));
    assert!(!can(&a, w, "a/c", R));
    assert!(can(&a, w, "x", W) && can(&a, w, "x/y/z", W));
    assert!(!can(&a, w, "xy", W));
    assert!(can(&a, w, "top", R) && !can(&a, w, "top/x", R));
    assert!(can(&a, w, "/x", R));
}

#[test]
fn dollar_topics_need_rules_that_name_them() {
    let a = acl("topic read #\ntopic read +/x\ntopic readwrite $SYS/#\ntopic readwrite $app/+\n");
    let w = who("c", None);
    assert!(can(&a, w, "a/x", R));
    assert!(can(&a, w, "$SYS/broker/uptime", R));
    assert!(
        !can(&a, w, "$other/x", R),
        "# and +/x do not match $ topics"
    );
    assert!(can(&a, w, "$app/x", W));
    // Nobody writes $SYS (but the bridge state topics) nor $share.
    assert!(!can(&a, w, "$SYS/broker/uptime", W));
    assert!(can(&a, w, "$SYS/broker/connection/b1/state", W));
    let b = acl("topic readwrite #\ntopic readwrite $share/#\n");
    assert!(!can(&b, w, "$share/g/x", W) && !can(&b, w, "$share/g/x", R));
}

#[test]
fn deny_wins_within_a_section_whatever_the_order() {
    let a = acl("topic readwrite a/#\ntopic deny a/secret\ntopic read b/#\n");
    let w = who("c", None);
    assert!(can(&a, w, "a/open", W));
    assert!(!can(&a, w, "a/secret", R) && !can(&a, w, "a/secret", W));
    let b = acl("topic deny a/+\ntopic readwrite a/#\n");
    assert!(!can(&b, w, "a/x", R));
    assert!(can(&b, w, "a/x/y", R));
}

#[test]
fn a_grant_of_the_other_access_does_not_stop_the_search() {
    // write on a/# matches a/x but does not decide a read; the pattern does.
    let a = acl("user u\ntopic write a/#\npattern read a/%u\n");
    assert!(can(&a, who("c", Some("u")), "a/u", R));
    assert!(!can(&a, who("c", Some("u")), "a/v", R));
}

#[test]
fn user_grants_come_before_pattern_denies() {
    // Mosquitto checks the user's list first: its grant allows even where a
    // pattern denies; a user deny beats a pattern grant.
    let a =
        acl("user u\ntopic read d/u/#\ntopic deny p/u\npattern deny d/%u/#\npattern read p/%u\n");
    let u = who("c", Some("u"));
    assert!(can(&a, u, "d/u/x", R));
    assert!(!can(&a, u, "p/u", R));
    let v = who("c", Some("v"));
    assert!(!can(&a, v, "d/v/x", R));
    assert!(can(&a, v, "p/v", R));
}

#[test]
fn patterns_substitute_client_id_and_user() {
    let a = acl(
        "pattern readwrite devices/%c/#\npattern read users/%u/+\npattern write %u-%c/x\n\
         pattern read z/%c%u\n",
    );
    let anon = who("dev1", None);
    assert!(can(&a, anon, "devices/dev1/t", W));
    assert!(!can(&a, anon, "devices/dev2/t", W));
    assert!(
        !can(&a, anon, "users/dev1/x", R),
        "%u never matches without a user name"
    );
    let u = who("dev1", Some("ann"));
    assert!(can(&a, u, "users/ann/inbox", R));
    assert!(!can(&a, u, "users/bob/inbox", R));
    assert!(can(&a, u, "ann-dev1/x", W));
    assert!(!can(&a, u, "ann-dev2/x", W));
    assert!(can(&a, u, "z/dev1ann", R));
    assert!(!can(&a, u, "z/dev1an", R));
}

#[test]
fn an_id_with_a_slash_spans_levels_as_in_text_substitution() {
    let a = acl("pattern read d/%c/x\n");
    assert!(can(&a, who("a/b", None), "d/a/b/x", R));
    assert!(!can(&a, who("a/b", None), "d/a/x", R));
    assert!(!can(&a, who("a", None), "d/a/b/x", R));
}

#[test]
fn wildcards_in_an_id_or_user_name_shut_the_patterns() {
    let a = acl("user u+\ntopic read own/#\npattern read d/%c/#\npattern read e/%u/#\n");
    assert!(!can(&a, who("+", None), "d/+/x", R));
    assert!(!can(&a, who("#", None), "d/#", R));
    assert!(!can(&a, who("c", Some("u+")), "e/u+/x", R));
    assert!(
        can(&a, who("c", Some("u+")), "own/x", R),
        "the own section still counts"
    );
    assert!(can(&a, who("c", Some("u")), "d/c/x", R));
}

#[test]
fn many_literal_children_use_the_map() {
    let mut text = String::new();
    for i in 0..50 {
        text += &format!("topic read fleet/{i}/#\n");
    }
    let a = acl(&text);
    let w = who("c", None);
    for i in 0..50 {
        assert!(can(&a, w, &format!("fleet/{i}/x"), R));
    }
    assert!(!can(&a, w, "fleet/50/x", R));
}

/// Each (client, filter, verdict, why) judged against `rules`.
fn judge_all(rules: &str, cases: &[(Who<'_>, &str, Coverage, &str)]) {
    let a = acl(rules);
    for (w, filter, want, why) in cases {
        assert_eq!(
            a.subscription(*w, filter),
            *want,
            "{filter} for {w:?}: {why}"
        );
    }
}

#[test]
fn subscriptions_are_denied_covered_or_checked_per_delivery() {
    use Coverage::*;
    let w = who("c", None);
    judge_all(
        "topic read a/#\ntopic deny a/secret\ntopic write w/#\ntopic read s/+/t\n",
        &[
            (w, "a/x/#", Covered, "inside the grant, clear of the deny"),
            (w, "a/x", Covered, "a topic: checked exactly"),
            (w, "a/#", Partial, "a/secret is inside"),
            (w, "a/+", Partial, "a/secret is inside"),
            (w, "a/secret", Denied, "a topic: checked exactly"),
            (w, "#", Partial, "broader than the grant"),
            (w, "w/#", Denied, "write only"),
            (w, "b/+", Denied, "nothing granted"),
            (w, "+/+/t", Partial, "s/x/t is readable"),
            (w, "s/+/t", Covered, "the grant itself"),
            (w, "$SYS/#", Denied, "# grants do not reach $SYS"),
        ],
    );
    judge_all(
        "topic read #",
        &[
            (w, "$SYS/#", Denied, "# does not match $ topics"),
            (w, "+/#", Covered, "+/# matches what # does"),
        ],
    );
}

#[test]
fn subscription_judging_follows_the_section_then_patterns_order() {
    use Coverage::*;
    let u = who("c", Some("u"));
    let anon = who("c", None);
    judge_all(
        "user u\ntopic read own/#\ntopic deny own/x/#\npattern read p/%u/#\n\
         pattern deny p/%u/secret\npattern read own/x/%u\n",
        &[
            (u, "p/u/#", Partial, "p/u/secret is denied"),
            (u, "p/u/a/#", Covered, "clear of the pattern deny"),
            (u, "p/v/#", Denied, "another user's tree"),
            (
                u,
                "own/x/#",
                Denied,
                "the user's deny beats a pattern grant",
            ),
            (anon, "p/+/#", Denied, "%u needs a user"),
        ],
    );
    judge_all(
        "pattern read d/%c/#\n",
        &[
            (who("c1", None), "d/c1/#", Covered, "its own tree"),
            (who("c1", None), "d/+/#", Partial, "its own tree is inside"),
            (
                who("c+", None),
                "d/+/#",
                Denied,
                "a wildcard in the id shuts patterns",
            ),
        ],
    );
}

#[test]
fn every_load_has_a_new_nonzero_generation() {
    let (a, b) = (acl(""), acl(""));
    assert_ne!(a.generation(), 0);
    assert_ne!(a.generation(), b.generation());
}

#[test]
fn load_names_the_file_line_and_reason() {
    let dir = std::env::temp_dir().join(format!("shardmq-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acl");
    std::fs::write(&path, "topic read a\nbogus line\n").unwrap();
    let e = Acl::load(&path).err().unwrap();
    assert_eq!(
        e,
        format!(
            "acl_file {}:2: unknown keyword \"bogus\" (expected topic, user or pattern)",
            path.display()
        )
    );
    std::fs::write(&path, "topic read a\n").unwrap();
    assert!(Acl::load(&path).is_ok());
    let e = Acl::load(&dir.join("missing")).err().unwrap();
    assert!(e.starts_with("cannot read acl_file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reload_hook_keeps_the_old_rules_on_a_bad_file() {
    let dir = std::env::temp_dir().join(format!("shardmq-acl-hook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acl");
    std::fs::write(&path, "topic read a\n").unwrap();
    let mut hooks = Hooks::default();
    let shared = start(Some(&path), &mut hooks).unwrap().unwrap();
    let g = shared.current().generation();
    std::fs::write(&path, "topic read a\ntopic sideways b\n").unwrap();
    let failed = hooks.run();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains(":2: unknown access \"sideways\""),
        "{failed:?}"
    );
    assert_eq!(shared.current().generation(), g, "the old rules stay");
    std::fs::write(&path, "topic read b\n").unwrap();
    assert!(hooks.run().is_empty());
    let now = shared.current();
    assert_ne!(now.generation(), g);
    assert!(now.allows(who("c", None), "b", R));
    assert!(start(None, &mut hooks).unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}
