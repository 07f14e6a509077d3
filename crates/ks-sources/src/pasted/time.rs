//! Times as kubectl prints them: ages (`7m28s`, `3d4h`, `<unknown>`), event age columns
//! (`61s (x2 over 6m23s)`), and absolute times (RFC1123Z from `describe`, RFC3339 from YAML
//! and `--timestamps`, the e2e framework's `2024-01-02 03:04:05 +0000 UTC`).

use jiff::Timestamp;

/// A time as the paste states it: absolute, or an age relative to the paste's "now".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum When {
    #[default]
    Unknown,
    At(Timestamp),
    /// Seconds before the reference now.
    Ago(i64),
}

impl When {
    pub fn resolve(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            When::Unknown => None,
            When::At(t) => Some(t),
            When::Ago(s) => Timestamp::from_second(now.as_second().saturating_sub(s)).ok(),
        }
    }

    pub fn is_known(self) -> bool {
        self != When::Unknown
    }
}

/// A Go `duration.HumanDuration` string: `45s`, `7m28s`, `3h`, `2d3h`, `3y125d`, `1m0s`.
pub fn parse_age(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 24 {
        return None;
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let mut units = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(c - b'0'))?);
            i += 1;
            continue;
        }
        let n = num.take()?;
        // `ms` only appears in Go's own duration format (`1m0.5s` is not produced by kubectl).
        let (mult, len) = match c {
            b'm' if bytes.get(i + 1) == Some(&b's') => (0, 2),
            b's' => (1, 1),
            b'm' => (60, 1),
            b'h' => (3600, 1),
            b'd' => (86_400, 1),
            b'y' => (365 * 86_400, 1),
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        units += 1;
        i += len;
    }
    if num.is_some() || units == 0 {
        return None;
    }
    Some(total)
}

/// `2 minutes`, `an hour`, `5 days ago`: the humanised ages of dashboards (Lens, Rancher).
fn parse_words_age(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix(" ago").unwrap_or(s);
    let mut it = s.split_whitespace();
    let n = it.next()?;
    let unit = it.next()?;
    if it.next().is_some() {
        return None;
    }
    let n: i64 = match n {
        "a" | "an" => 1,
        "few" => 5,
        _ => n.parse().ok()?,
    };
    let unit = unit.trim_end_matches('s');
    let mult = match unit {
        "second" | "sec" => 1,
        "minute" | "min" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        "month" => 30 * 86_400,
        "year" => 365 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// One age cell: a Go duration, a humanised duration, `<unknown>` or `<invalid>` (a time in the
/// future, from clock skew: taken as now).
pub fn parse_age_cell(s: &str) -> Option<When> {
    let s = s.trim();
    match s {
        "<unknown>" | "<none>" | "" | "-" => Some(When::Unknown),
        "<invalid>" => Some(When::Ago(0)),
        _ => parse_age(s).or_else(|| parse_words_age(s)).map(When::Ago),
    }
}

/// An event's age column: `61s`, `61s (x2 over 6m23s)`, `(x3 over 5m)`,
/// `2 minutes (13 times over 4 minutes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventAge {
    pub last: When,
    pub first: When,
    pub count: u32,
}

pub fn parse_event_age(s: &str) -> Option<EventAge> {
    let s = s.trim();
    let (head, tail) = match s.find('(') {
        Some(p) => (s[..p].trim(), Some(s[p..].trim())),
        None => (s, None),
    };
    let last = if head.is_empty() { When::Unknown } else { parse_age_cell(head)? };
    let Some(tail) = tail else {
        return Some(EventAge { last, first: last, count: 1 });
    };
    let inner = tail.strip_prefix('(')?;
    // A cut-off line may lose the closing parenthesis.
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    let (count, over) = if let Some(rest) = inner.strip_prefix('x') {
        let (n, over) = rest.split_once(" over ")?;
        (n.trim().parse::<u32>().ok()?, over)
    } else {
        let (n, over) = inner.split_once(" times over ")?;
        (n.trim().parse::<u32>().ok()?, over)
    };
    let first = parse_age_cell(over).unwrap_or(When::Unknown);
    let last = if last.is_known() { last } else { first };
    Some(EventAge { last, first, count: count.max(1) })
}

/// Whether a cell looks like an event age (used to recognise headerless event rows).
pub fn is_age_token(s: &str) -> bool {
    matches!(s, "<unknown>" | "<invalid>") || parse_age(s).is_some()
}

/// `Mon, 13 Dec 2021 18:02:32 -0800` (RFC1123Z, describe), also with a zone name.
pub fn parse_rfc1123(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() < 20 || s.len() > 40 || !s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let parser = jiff::fmt::rfc2822::DateTimeParser::new();
    if let Ok(t) = parser.parse_timestamp(s) {
        return Some(t);
    }
    // RFC1123 with `UTC` (older kubectl) is not RFC 2822.
    let fixed = s.strip_suffix(" UTC").map(|p| format!("{p} +0000"))?;
    parser.parse_timestamp(fixed).ok()
}

/// RFC3339 (`2024-01-02T03:04:05Z`, `...05.123456789+02:00`).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() < 20 || s.len() > 40 || s.as_bytes().get(4).is_none_or(|&b| b != b'-') {
        return None;
    }
    s.parse().ok()
}

/// `2024-01-02 03:04:05 +0000 UTC` (Go's `time.Time.String()`), with optional fraction and
/// monotonic suffix.
pub fn parse_go_time(s: &str) -> Option<Timestamp> {
    let mut it = s.split_whitespace();
    let date = it.next()?;
    let time = it.next()?;
    let offset = it.next()?;
    if date.len() != 10 || date.as_bytes().get(4).is_none_or(|&b| b != b'-') {
        return None;
    }
    let time = time.split('.').next()?;
    let text = format!("{date} {time} {offset}");
    jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", &text).ok()?.to_timestamp().ok()
}

/// Any absolute time format above.
pub fn parse_absolute(s: &str) -> Option<Timestamp> {
    parse_rfc3339(s).or_else(|| parse_rfc1123(s)).or_else(|| parse_go_time(s))
}

/// A kubectl `--timestamps` prefix (`2024-01-02T03:04:05.123456789Z `): its time and the rest.
pub fn strip_log_timestamp(line: &str) -> Option<(Timestamp, &str)> {
    let b = line.as_bytes();
    if b.len() < 21 || !b[0].is_ascii_digit() || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let end = line.find(' ')?;
    let stamp = &line[..end];
    // kubectl writes RFC3339Nano: `Z` or a `+hh:mm` offset; application formats such as
    // mongod's `+0000` are part of the log line and stay.
    let zoned = stamp.ends_with('Z') || stamp.as_bytes().get(stamp.len().saturating_sub(3)) == Some(&b':');
    if !zoned {
        return None;
    }
    let t: Timestamp = stamp.parse().ok()?;
    Some((t, &line[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("7m28s"), Some(448));
        assert_eq!(parse_age("11h"), Some(39_600));
        assert_eq!(parse_age("2d3h"), Some(2 * 86_400 + 3 * 3600));
        assert_eq!(parse_age("3y125d"), Some(3 * 365 * 86_400 + 125 * 86_400));
        assert_eq!(parse_age("abc"), None);
        assert_eq!(parse_age("12"), None);
        assert_eq!(parse_age_cell("<invalid>"), Some(When::Ago(0)));
        assert_eq!(parse_age_cell("2 minutes"), Some(When::Ago(120)));
        assert_eq!(parse_age_cell("an hour ago"), Some(When::Ago(3600)));
    }

    #[test]
    fn event_ages() {
        let a = parse_event_age("7m28s (x3267 over 11h)").unwrap();
        assert_eq!((a.last, a.first, a.count), (When::Ago(448), When::Ago(39_600), 3267));
        let a = parse_event_age("10s").unwrap();
        assert_eq!((a.last, a.count), (When::Ago(10), 1));
        let a = parse_event_age("<unknown>").unwrap();
        assert_eq!(a.last, When::Unknown);
        let a = parse_event_age("2 minutes (13 times over 4 minutes)").unwrap();
        assert_eq!((a.last, a.first, a.count), (When::Ago(120), When::Ago(240), 13));
        let a = parse_event_age("(x3 over 5m)").unwrap();
        assert_eq!((a.last, a.count), (When::Ago(300), 3));
        assert!(parse_event_age("kubelet").is_none());
    }

    #[test]
    fn absolute_times() {
        let t = parse_rfc1123("Mon, 13 Dec 2021 18:02:32 -0800").unwrap();
        assert_eq!(t.to_string(), "2021-12-14T02:02:32Z");
        assert!(parse_rfc1123("Mon, 13 Dec 2021 18:02:32 UTC").is_some());
        let t = parse_go_time("2024-01-02 03:04:05.123 +0000 UTC").unwrap();
        assert_eq!(t.to_string(), "2024-01-02T03:04:05Z");
        assert!(parse_rfc3339("2025-11-14T10:20:04Z").is_some());
        let (t, rest) = strip_log_timestamp("2024-01-02T03:04:05.123456789Z hello world").unwrap();
        assert_eq!((t.to_string().as_str(), rest), ("2024-01-02T03:04:05.123456789Z", "hello world"));
        assert!(strip_log_timestamp("2020-08-11T09:07:14.244+0000 I  STORAGE").is_none());
    }
}
