//! The catalogue: every rule, once. Ids are stable forever; see [`REDIRECTS`] for retired ids.

use std::sync::LazyLock;

use crate::Rule;

/// Every rule, in catalogue order: each area module lists its own rules in `RULES`.
pub static RULES: LazyLock<Vec<&'static dyn Rule>> = LazyLock::new(|| {
    let areas: &[&[&'static dyn Rule]] = &[
        crate::image::RULES,
        crate::config::RULES,
        crate::crash::RULES,
        crate::security::RULES,
        crate::admission::RULES,
        crate::sched::RULES,
        crate::volume::RULES,
        crate::node::RULES,
        crate::workload::RULES,
        crate::net::RULES,
        crate::cert::RULES,
        crate::lint::RULES,
        crate::drift::RULES,
        crate::dev::RULES,
    ];
    let mut all: Vec<&'static dyn Rule> = areas.concat();
    all.sort_by_key(|r| r.meta().id);
    all
});

/// Retired or renamed rule ids and where they went.
pub static REDIRECTS: &[(&str, &str)] = &[];

/// Look a rule up by id (`KS0201`) or name (`secret-key-missing`), following redirects.
pub fn find_rule(id_or_name: &str) -> Option<&'static dyn Rule> {
    let wanted = REDIRECTS
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(id_or_name))
        .map(|(_, new)| *new)
        .unwrap_or(id_or_name);
    RULES.iter().copied().find(|r| r.meta().id.eq_ignore_ascii_case(wanted) || r.meta().name == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ks_core::rule::DOC_SECTIONS;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for r in RULES.iter() {
            let m = r.meta();
            assert!(ids.insert(m.id), "duplicate id {}", m.id);
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            assert!(
                m.id.len() == 6 && m.id.starts_with("KS") && m.id[2..].chars().all(|c| c.is_ascii_digit()),
                "bad id {}",
                m.id
            );
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "name {} is not kebab-case",
                m.name
            );
            assert!(!m.summary.ends_with('.'), "{}: summary ends with a period", m.id);
            assert!(m.summary.chars().next().is_some_and(|c| c.is_lowercase()), "{}: summary starts lowercase", m.id);
        }
    }

    #[test]
    fn every_rule_documents_every_section_in_order() {
        for r in RULES.iter() {
            let m = r.meta();
            let mut last = 0;
            for s in DOC_SECTIONS {
                let pos = m.docs.find(&format!("### {s}\n")).unwrap_or_else(|| panic!("{} lacks section {s}", m.id));
                assert!(pos >= last, "{}: section {s} out of order", m.id);
                last = pos;
            }
            let d = m.sections();
            for (s, body) in [
                ("What it finds", &d.what_it_finds),
                ("Why it breaks", &d.why_it_breaks),
                ("How to confirm", &d.how_to_confirm),
                ("Fix", &d.fix),
                ("Prevention", &d.prevention),
                ("Example", &d.example),
            ] {
                assert!(!body.trim().is_empty(), "{}: empty section {s}", m.id);
            }
        }
    }

    #[test]
    fn find_rule_by_id_and_name() {
        assert_eq!(find_rule("ks0201").map(|r| r.meta().name), Some("secret-key-missing"));
        assert_eq!(find_rule("secret-key-missing").map(|r| r.meta().id), Some("KS0201"));
        assert!(find_rule("KS9999").is_none());
    }
}
