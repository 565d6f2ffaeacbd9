//! What the engine publishes for `vrrpctl watch` and the metrics: state,
//! priority, tracker and discard events in order, and a takeover timed
//! from the Master_Down deadline that fired.

use vrrp_core::router::State;

use super::*;

const TRACKED: &str = r#"
[track_script.chk]
command = ["/bin/true"]

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
track_script = [{ name = "chk", weight = -60 }]
"#;

#[test]
fn a_takeover_is_published_with_the_deadline_that_fired() {
    let mut h = Harness::start(TRACKED);
    let (deadline, exact) = h.engine.poll_timeout().expect("Master_Down_Timer");
    assert!(exact);
    // The loop wakes 5 ms late: the takeover still dates from the deadline.
    h.now = deadline + 5 * MS;
    h.engine.handle_timeout(h.now);
    h.pump();
    let states: Vec<_> = h
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::StateChanged {
                from,
                to,
                reason,
                takeover_since,
                priority,
                ..
            } => Some((*from, *to, reason.as_str(), *takeover_since, *priority)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            (State::Initialize, State::Backup, "startup", None, 150),
            (
                State::Backup,
                State::Active,
                "master_down",
                Some(deadline),
                150
            ),
        ]
    );
}

#[test]
fn a_tracker_change_is_published_before_the_priority_it_moves() {
    let mut h = Harness::start(TRACKED);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let mark = h.events.len();
    h.engine.handle_tracker(
        h.now,
        &TrackerUpdate {
            kind: TrackerKind::Script,
            name: "chk".into(),
            observation: Observation::Up(false),
            detail: String::new(),
        },
    );
    h.pump();
    let id = h.events[mark..]
        .iter()
        .find_map(|(_, e)| match e {
            Event::TrackerChanged { instance, .. } => Some(*instance),
            _ => None,
        })
        .expect("a tracker event");
    assert_eq!(h.engine.instance_name(id), Some("A"));
    let got: Vec<Event> = h.events[mark..].iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        got,
        [
            Event::TrackerChanged {
                instance: id,
                kind: "track_script",
                name: "chk".into(),
                up: false,
            },
            Event::PriorityChanged {
                instance: id,
                from: 150,
                to: 90,
            },
        ]
    );
    // The same result again changes nothing and publishes nothing.
    let mark = h.events.len();
    h.engine.handle_tracker(
        h.now,
        &TrackerUpdate {
            kind: TrackerKind::Script,
            name: "chk".into(),
            observation: Observation::Up(false),
            detail: String::new(),
        },
    );
    h.pump();
    assert!(h.events[mark..].is_empty(), "{:?}", &h.events[mark..]);
    let status = &h.engine.status()[0];
    assert_eq!(status.trackers.len(), 1);
    assert_eq!(status.trackers[0].kind, "track_script");
    assert!(!status.trackers[0].up);
    assert_eq!(status.trackers[0].weight_applied, Some(-60));
    assert!(status.vips_installed);
}

#[test]
fn an_advert_for_no_instance_is_published_as_a_discard() {
    let mut h = Harness::start(TRACKED);
    h.advance(100 * MS);
    let mark = h.events.len();
    h.advert(52, 100);
    let got: Vec<Event> = h.events[mark..].iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        got,
        [Event::Discarded {
            instance: None,
            reason: "vrid_mismatch"
        }]
    );
}
