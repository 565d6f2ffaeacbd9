//! `keepalived.json` against keepalived 2.2.7's captures.

use super::*;

/// A JSON object with its keys in the file's order.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

impl<V> Ordered<V> {
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

type Dump = Vec<Ordered<Ordered<Value>>>;

fn parse(text: &str) -> Dump {
    match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => panic!("{e}: {text}"),
    }
}

#[test]
fn json_has_keepalived_s_keys_and_values() {
    let config = config();
    for scene in SCENES {
        let list = instances(&config, scene);
        let text = render(DumpKind::Json, &config, &list);
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with("]\n"));
        let ours = parse(&text);
        let theirs = parse(capture(scene).json);
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o.keys(), ["data", "stats"]);
            assert_eq!(o.keys(), t.keys());
            for part in ["data", "stats"] {
                let (Some(od), Some(td)) = (o.get(part), t.get(part)) else {
                    panic!("no {part}");
                };
                assert_eq!(od.keys(), td.keys(), "{scene:?} {part}");
            }
            let (Some(od), Some(td)) = (o.get("data"), t.get("data")) else {
                panic!("no data");
            };
            for key in [
                "iname",
                "state",
                "wantstate",
                "vrid",
                "ifp_ifname",
                "vips",
                "base_priority",
                "adver_int",
                "version",
                "auth_type",
            ] {
                assert_eq!(od.get(key), td.get(key), "{scene:?} {key}");
            }
            // Everything else too, but for times, the Active router's
            // priority (not reported by the engine) and the script path
            // (keepalived resolves /bin/true).
            for (key, value) in &od.0 {
                if !["last_transition", "master_priority", "track_script"].contains(&key.as_str()) {
                    assert_eq!(Some(value), td.get(key), "{scene:?} {key}");
                }
            }
        }
        // keepalived's number formats: integers where it prints %g of a
        // whole number.
        assert!(text.contains("\"garp_delay\":5,"));
        assert!(text.contains("\"adver_int\":1,\"master_adver_int\":1,"));
        let real = std::fs::canonicalize("/bin/true").unwrap();
        let real = real.to_string_lossy().replace('/', "\\/");
        assert!(
            text.contains(&format!("\"track_script\":[\"'{real}'\"]")),
            "{text}"
        );
        assert!(text.contains("\"198.18.1.11\\/24 dev veth0 scope global label veth0:1"));
    }
}

#[test]
fn json_last_transition_is_printf_f() {
    let config = config();
    let text = json(&instances(&config, Scene::Master));
    assert!(text.contains("\"last_transition\":1796694273.301000,"));
    // Without the configuration, scripts are listed by name.
    assert!(text.contains("\"track_script\":[\"chk_true\"]"));
}

#[test]
fn json_strings_are_escaped_and_stay_valid() {
    let mut out = String::new();
    super::super::json::push_string(&mut out, "a/b\"c\\d\te\nf\u{1}g\u{7f}é");
    assert_eq!(out, "\"a\\/b\\\"c\\\\d\\te\\nf\\u0001g\\u007fé\"");
    let back: String = serde_json::from_str(&out).unwrap();
    assert_eq!(back, "a/b\"c\\d\te\nf\u{1}g\u{7f}é");
}

#[test]
fn json_sub_second_intervals_are_g() {
    let config = config();
    let mut list = instances(&config, Scene::Master);
    list[1].config.advert_interval = std::time::Duration::from_millis(500);
    list[1].status.master_adver_interval_ms = 250;
    let text = json(&list);
    assert!(text.contains("\"adver_int\":0.5,\"master_adver_int\":0.25,"));
}

// ------------------------------------------------------- exporter parsers
