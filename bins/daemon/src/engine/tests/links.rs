//! Links in virtual time: keepalived's `interface_up_down_delays`.

use super::*;

const DELAYED: &str = r#"
[global]
link_delays = { eth0 = { down = "200ms", up = "100ms" } }

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
"#;

fn link(h: &mut Harness, state: LinkState) {
    h.engine.handle_link(h.now, ETH0, "eth0", state);
    h.pump();
}

#[test]
fn a_link_bounce_shorter_than_its_delay_changes_nothing() {
    let mut h = Harness::start(DELAYED);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let mark = h.seen.len();
    link(&mut h, LinkState::Down);
    h.advance(150 * MS);
    assert_eq!(h.state("A"), "active", "down for less than 200 ms");
    link(&mut h, LinkState::Up);
    h.advance(1_000 * MS);
    assert_eq!(h.state("A"), "active");
    assert!(
        !h.since(mark).iter().any(|s| matches!(s, Seen::Remove(_))),
        "{:?}",
        h.since(mark)
    );
}

#[test]
fn a_link_down_longer_than_its_delay_faults_at_the_delay() {
    let mut h = Harness::start(DELAYED);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let down_at = h.now;
    link(&mut h, LinkState::Down);
    h.advance(199 * MS);
    assert_eq!(h.state("A"), "active");
    h.advance(MS);
    assert_eq!(h.state("A"), "fault");
    let removed = h
        .seen
        .iter()
        .find(|(_, s)| matches!(s, Seen::Remove(_)))
        .map(|(t, _)| *t - down_at);
    assert_eq!(removed, Some(200 * MS));
    // Up: Backup only once it has been up for 100 ms.
    link(&mut h, LinkState::Up);
    h.advance(99 * MS);
    assert_eq!(h.state("A"), "fault");
    h.advance(MS);
    assert_eq!(h.state("A"), "backup");
}

#[test]
fn without_delays_a_link_change_applies_at_once() {
    let mut h = Harness::start(ONE);
    h.advance(400 * MS);
    link(&mut h, LinkState::Down);
    assert_eq!(h.state("A"), "fault");
}
