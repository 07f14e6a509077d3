use ks_core::Evidence;
use ks_sources::load_bytes;

fn load(text: &str) -> Evidence {
    let mut ev = Evidence::default();
    load_bytes("input.json", text.as_bytes(), &mut ev);
    ev.finish();
    ev
}

#[test]
fn typed_list_items_without_kind_are_read() {
    let ev = load(r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a","namespace":"n"}}]}"#);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.pods.len(), 1);
    assert!(ev.has_collected("Pod"));
}

#[test]
fn secret_values_are_never_kept() {
    let ev = load(
        r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"n"},"data":{"mongo-url":"Q0FOQVJZ"}}"#,
    );
    assert_eq!(ev.secrets.len(), 1);
    assert!(ev.secrets[0].keys.contains("mongo-url"));
    assert!(!format!("{:?}", ev.secrets).contains("Q0FOQVJZ"));
}

#[test]
fn stream_of_objects_with_log_sections() {
    let text = "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":[]}\n{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}\n==== START logs for container api of pod shop/web-1 ====\nboom\n==== END logs for container api of pod shop/web-1 ====\n{\"kind\":\"EventList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{\"namespace\":\"shop\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\",\"namespace\":\"shop\"},\"reason\":\"BackOff\",\"message\":\"Back-off restarting failed container api in pod web-1_shop(1)\",\"type\":\"Warning\",\"count\":3,\"lastTimestamp\":\"2026-11-20T10:00:00Z\"}]}\n";
    let ev = load(text);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.logs.len(), 1);
    assert_eq!(ev.events.len(), 1);
    assert_eq!(ev.events[0].count, 3);
    assert_eq!(ev.now().map(|t| t.to_string()), Some("2026-11-20T10:00:00Z".to_string()));
}

#[test]
fn yaml_multi_doc_is_read() {
    let ev = load(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: shop\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n  namespace: shop\n",
    );
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.services.len(), 1);
    assert_eq!(ev.other.len(), 1);
}

#[test]
fn malformed_json_is_a_gap_with_a_line_and_the_rest_is_kept() {
    let ev = load(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}\n{\"kind\": \"Pod\",\n  \"apiVersion\": \"v1\", oops}\n",
    );
    assert_eq!(ev.gaps.len(), 1);
    assert_eq!(ev.gaps[0].line, Some(3), "{}", ev.gaps[0]);
    assert!(ev.has_collected("Pod"));
}

#[test]
fn binary_junk_is_a_gap_not_a_panic() {
    let mut ev = Evidence::default();
    load_bytes("junk.bin", &[0xff, 0xfe, 0x00, 0x12, b'\n', 0x80], &mut ev);
    assert_eq!(ev.gaps.len(), 1);
    assert!(ev.gaps[0].message.contains("binary"));
}

#[test]
fn wrongly_typed_object_is_a_gap_naming_it() {
    let ev = load(
        r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a","namespace":"n"},"spec":{"containers":"nope"}}]}"#,
    );
    assert_eq!(ev.gaps.len(), 1);
    assert!(ev.gaps[0].message.contains("Pod n/a"), "{}", ev.gaps[0]);
}
