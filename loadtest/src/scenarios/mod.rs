//! What each scenario runs: which clients, on which thread, with which
//! client ID, topic and source address; and how its loss is measured.
//!
//! Every scenario is a mix of three roles (see [`Role`]); `conn` is idle
//! clients only, `pub`/`sub` one role each, `fanin`/`fanout`/`p2p` both,
//! with the expectation in `Config::expect` saying who must hear whom.
//! `connect-rate` plans nothing up front: its connections are made one
//! after the other (`connect_rate`).

pub mod connect_rate;
pub mod loss;

use crate::client::{Role, Spec};
use crate::config::Config;
use crate::template::expand;

/// Clients per executor thread. Subscribers come first so they are
/// connected early, then publishers, then idle clients; all are dealt round
/// robin so every thread gets its share of each role.
pub fn plan(cfg: &Config) -> Vec<Vec<Spec>> {
    let mut threads: Vec<Vec<Spec>> = (0..cfg.threads).map(|_| Vec::new()).collect();
    let mut k = 0usize;
    let mut add = |rank: u32, role_char: char| {
        let index = cfg.start_index + rank;
        let thread = k % cfg.threads;
        let vars = cfg.vars(index, thread, role_char);
        let role = match role_char {
            's' => Role::Subscriber {
                filter: expand(&cfg.filter, &vars),
            },
            'p' => Role::Publisher {
                topic: expand(&cfg.topic, &vars),
            },
            _ => Role::Idle,
        };
        let source = (!cfg.source_ips.is_empty()).then(|| cfg.source_ips[k % cfg.source_ips.len()]);
        threads[thread].push(Spec {
            index,
            rank,
            role,
            client_id: expand(&cfg.client_id, &vars),
            source,
        });
        k += 1;
    };
    (0..cfg.subscribers).for_each(|r| add(r, 's'));
    (0..cfg.publishers).for_each(|r| add(r, 'p'));
    (0..cfg.idle).for_each(|r| add(r, 'c'));
    threads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &str) -> Config {
        crate::config::from_args(args).unwrap()
    }

    #[test]
    fn fanin_spreads_roles_over_threads() {
        let c = cfg("fanin --publishers 4 --threads 2 --client-id c-%R%i-%t");
        let p = plan(&c);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].len() + p[1].len(), 5);
        let sub = &p[0][0];
        assert!(matches!(&sub.role, Role::Subscriber { filter } if filter == "bench/+/t"));
        assert_eq!(sub.client_id, "c-s0-0");
        let pubs: Vec<&Spec> = p
            .iter()
            .flatten()
            .filter(|s| matches!(s.role, Role::Publisher { .. }))
            .collect();
        assert_eq!(pubs.len(), 4);
        let mut topics: Vec<String> = pubs
            .iter()
            .map(|s| match &s.role {
                Role::Publisher { topic } => topic.clone(),
                _ => unreachable!(),
            })
            .collect();
        topics.sort();
        assert_eq!(topics, ["bench/0/t", "bench/1/t", "bench/2/t", "bench/3/t"]);
        assert!(p[1].iter().all(|s| s.client_id.ends_with("-1")));
    }

    #[test]
    fn p2p_pairs_share_index_and_topic() {
        let c = cfg("p2p --pairs 3 --threads 1 --start-index 10");
        let p = &plan(&c)[0];
        for i in 10..13 {
            let sub = p
                .iter()
                .find(|s| s.index == i && matches!(s.role, Role::Subscriber { .. }))
                .unwrap();
            let publ = p
                .iter()
                .find(|s| s.index == i && matches!(s.role, Role::Publisher { .. }))
                .unwrap();
            let Role::Subscriber { filter } = &sub.role else {
                unreachable!()
            };
            let Role::Publisher { topic } = &publ.role else {
                unreachable!()
            };
            assert_eq!(filter, topic);
            assert_eq!(topic, &format!("bench/p2p/{i}"));
            assert_ne!(sub.client_id, publ.client_id);
        }
    }

    #[test]
    fn source_ips_round_robin() {
        let c = cfg("conn -n 5 --threads 1 --source-ips 127.0.0.2-127.0.0.3");
        let ips: Vec<String> = plan(&c)[0]
            .iter()
            .map(|s| s.source.unwrap().to_string())
            .collect();
        assert_eq!(
            ips,
            [
                "127.0.0.2",
                "127.0.0.3",
                "127.0.0.2",
                "127.0.0.3",
                "127.0.0.2"
            ]
        );
    }
}
