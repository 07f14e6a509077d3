//! The string formats of CRD schemas that the API server checks, checked as it checks them.
//!
//! apiextensions-apiserver validates a custom resource's strings against kube-openapi's
//! `strfmt` registry, for the formats a CRD may use (`formats.go`), after dropping dashes
//! from the name (`date-time` is `datetime`). The registry's checks are Go code with Go's
//! semantics, which differ from JSON Schema's built-in formats (`1h30m` is a duration,
//! `2024-01-01T10:00:00` with no offset is not a date-time), so each is written here after
//! its Go source (the govalidator functions as kube-openapi vendors them).
//!
//! `email` is checked only as far as is certain: Go's `net/mail` parser is not reproduced,
//! and a value without `@` is one it never accepts. `uri` is Go's `url.ParseRequestURI`
//! but for what only the newest Go releases check inside brackets (the IPv6 address).
//! `password` accepts anything, and `bsonobjectid`, which a CRD may name, is not in the
//! registry, so the API server checks neither.
//!
//! `k8s-short-name` and `k8s-long-name` joined the formats a CRD may use in 1.34; an API
//! server of an older `--kube-version` drops them from the schema, and so does this module.

use std::sync::LazyLock;

use regex::Regex;

// Every pattern here is a constant that `formats_as_kube_openapi_checks_them` compiles and
// runs: the `expect("fixed pattern")`s cannot fail.

/// The name under which a checked format is registered with the JSON schema validator: a
/// prefix no built-in format has, so that no other check runs under a Kubernetes name.
pub(crate) const PREFIX: &str = "kubernetes:";

/// A format checked here: its normalized name (no dashes), its check, a valid value for
/// messages, whether a message may quote the value (not a social security or card number),
/// and the Kubernetes minor version whose API server first checks it (older ones drop the
/// format from the schema).
pub(crate) struct Format {
    pub(crate) name: &'static str,
    pub(crate) check: fn(&str) -> bool,
    example: &'static str,
    quote: bool,
    since_minor: u32,
}

/// The formats checked here.
pub(crate) const FORMATS: &[Format] = &[
    quoted("datetime", is_date_time, "2025-03-01T02:00:00Z"),
    quoted("date", is_date, "2025-03-01"),
    quoted("duration", is_duration, "1h30m"),
    quoted("byte", is_base64, "aGVsbG8="),
    quoted("uuid", |s| UUID[0].is_match(s), "123e4567-e89b-12d3-a456-426614174000"),
    quoted("uuid3", |s| UUID[1].is_match(s), "6ba7b810-9dad-31d1-80b4-00c04fd430c8"),
    quoted("uuid4", |s| UUID[2].is_match(s), "123e4567-e89b-42d3-a456-426614174000"),
    quoted("uuid5", |s| UUID[3].is_match(s), "6ba7b810-9dad-51d1-80b4-00c04fd430c8"),
    quoted("ipv4", |s| s.parse::<std::net::IpAddr>().is_ok() && s.contains('.'), "10.0.0.1"),
    quoted("ipv6", |s| s.parse::<std::net::IpAddr>().is_ok() && s.contains(':'), "fd00::1"),
    quoted("cidr", is_cidr, "10.0.0.0/16"),
    quoted("hostname", is_hostname, "db.example.com"),
    quoted("mac", is_mac, "00:1a:2b:3c:4d:5e"),
    quoted("email", |s| s.contains('@'), "admin@example.com"),
    quoted("uri", is_request_uri, "https://example.com/path"),
    quoted("hexcolor", |s| GOVALIDATOR.hexcolor.is_match(s), "#ff8800"),
    quoted("rgbcolor", |s| GOVALIDATOR.rgbcolor.is_match(s), "rgb(255,136,0)"),
    quoted("isbn", |s| is_isbn(s, 10) || is_isbn(s, 13), "9780306406157"),
    quoted("isbn10", |s| is_isbn(s, 10), "0306406152"),
    quoted("isbn13", |s| is_isbn(s, 13), "9780306406157"),
    unquoted("ssn", is_ssn, "123-45-6789"),
    unquoted("creditcard", is_credit_card, "4111 1111 1111 1111"),
    quoted("quantity", is_quantity, "10Gi"),
    // formats.go's second set, introduced in 1.34 (strfmt/kubernetes-extensions.go).
    Format { since_minor: 34, ..quoted("k8sshortname", is_short_name, "my-name") },
    Format { since_minor: 34, ..quoted("k8slongname", is_long_name, "my-name.example.com") },
];

const fn quoted(name: &'static str, check: fn(&str) -> bool, example: &'static str) -> Format {
    Format { name, check, example, quote: true, since_minor: 0 }
}

/// A format whose values a message must not quote.
const fn unquoted(name: &'static str, check: fn(&str) -> bool, example: &'static str) -> Format {
    Format { name, check, example, quote: false, since_minor: 0 }
}

/// The format registered as `registered` (`kubernetes:datetime`).
fn registered(registered: &str) -> Option<&'static Format> {
    let name = registered.strip_prefix(PREFIX)?;
    FORMATS.iter().find(|f| f.name == name)
}

/// How the API server names the format in its message (`must be of type date-time`).
pub(crate) fn display_name(registered: &str) -> &str {
    match registered.strip_prefix(PREFIX).unwrap_or(registered) {
        "datetime" => "date-time",
        "k8sshortname" => "k8s-short-name",
        "k8slongname" => "k8s-long-name",
        other => other,
    }
}

/// A value of the format, for the message.
pub(crate) fn example(name: &str) -> Option<&'static str> {
    registered(name).map(|f| f.example)
}

/// Whether a message may quote a value that breaks the format: a social security or card
/// number is not printed, as a Secret's values are not.
pub(crate) fn quotes_value(name: &str) -> bool {
    registered(name).is_none_or(|f| f.quote)
}

/// What a schema node's `format` becomes for an API server of minor version `minor`: the
/// registered name when it is checked here, `None` (drop it) otherwise. Like
/// `StripUnsupportedFormatsPostProcessorForVersion`, string formats apply to a node of type
/// `string` or of no single type, and a format newer than the server is dropped.
pub(crate) fn registered_name(format: &str, node_type: Option<&str>, minor: u32) -> Option<String> {
    if !matches!(node_type, None | Some("string")) {
        return None;
    }
    let normalized = format.replace('-', "");
    FORMATS.iter().any(|f| f.name == normalized && f.since_minor <= minor).then(|| format!("{PREFIX}{normalized}"))
}

static UUID: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    // strfmt's UUIDPattern, UUID3Pattern, UUID4Pattern, UUID5Pattern.
    [
        r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
        r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
        r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
        r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
    ]
    .map(|p| Regex::new(p).expect("fixed pattern"))
});

/// strfmt's `isQuantity`: apimachinery's `resource.ParseQuantity` succeeds. A sign, digits
/// with at most one `.`, then a suffix: a decimal one (`n` `u` `m` `k` `M` `G` `T` `P` `E`
/// or none), a binary one (`Ki` ... `Ei`), or `e`/`E` with an integer exponent. Go's parser
/// takes a number with no digits as zero (`Gi`, `.`, `-`) except where it falls back to its
/// arbitrary-precision path, which needs a digit: an exponent below -9, or `Pi`/`Ei`.
fn is_quantity(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let b = s.as_bytes();
    let digits_from = |i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut pos = usize::from(matches!(b[0], b'+' | b'-'));
    pos = digits_from(pos);
    if b.get(pos) == Some(&b'.') {
        pos = digits_from(pos + 1);
    }
    let (number, suffix) = s.split_at(pos);
    // parseQuantityString: suffix letters, then an optional sign and digits, then the end.
    let letters = suffix.bytes().take_while(|c| b"eEinumkKMGTP".contains(c)).count();
    let mut end = pos + letters;
    if matches!(b.get(end), Some(b'+' | b'-')) {
        end += 1;
    }
    if digits_from(end) != b.len() {
        return false;
    }
    let Some((base, exponent)) = crate::sched::quantity_suffix(suffix) else { return false };
    if number.bytes().any(|c| c.is_ascii_digit()) {
        return true;
    }
    // No digits: the number is "0", one digit long; the fast int64 path takes it unless the
    // scale is below nano, or a binary suffix leaves no precision (Go's `15 - len(num) -
    // exponent*3/10 - 1 >= 0`, true up to `Ti`).
    if base == 2 { exponent * 3 / 10 <= 13 } else { exponent >= -9 }
}

/// strfmt's `IsShortName`: a lower-case RFC 1123 label of at most 63 characters.
fn is_short_name(s: &str) -> bool {
    s.len() <= 63 && is_label(s)
}

/// strfmt's `IsLongName`: dot-separated lower-case labels (of any length), at most 253
/// characters in all.
fn is_long_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_label(s: &str) -> bool {
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    b.first().is_some_and(ok) && b.last().is_some_and(ok) && b.iter().all(|c| ok(c) || *c == b'-')
}

/// strfmt's `IsDate`: Go's `time.Parse("2006-01-02", s)`, which checks the day exists.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| s.get(r).filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

static DATE_TIME_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    // strfmt's DateTimePattern, matched against the lower-cased text after the first `t`.
    Regex::new(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$").expect("fixed pattern")
});

/// strfmt's `IsDateTime`: a date, `T` (any case), a time with seconds and an offset.
fn is_date_time(s: &str) -> bool {
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    // Go's strings.Split: the date before the first `t`, the time up to the next one.
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else { return false };
    if !is_date(date) {
        return false;
    }
    let Some(c) = DATE_TIME_TAIL.captures(time) else { return false };
    // Compared as text, as strfmt does: "23" and "59" bound two-digit fields.
    c[1] <= *"23" && c[2] <= *"59" && c[3] <= *"59"
}

/// strfmt's `IsDuration`: Go's `time.ParseDuration`, or the Scala-like `3 days 4 hours`.
fn is_duration(s: &str) -> bool {
    go_duration(s) || scala_duration(s)
}

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`, within ±2^63 ns.
fn go_duration(s: &str) -> bool {
    let rest = s.strip_prefix(['-', '+']).unwrap_or(s);
    if rest == "0" {
        return true;
    }
    if rest.is_empty() {
        return false;
    }
    let mut total: f64 = 0.0;
    let mut r = rest;
    while !r.is_empty() {
        let int_len = r.bytes().take_while(u8::is_ascii_digit).count();
        let (int, after) = r.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                (&a[..n], &a[n..])
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return false;
        }
        let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let ns = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return false,
        };
        let value: f64 = format!("{}.{}", if int.is_empty() { "0" } else { int }, frac).parse().unwrap_or(f64::MAX);
        total += value * ns;
        r = next;
    }
    // Go refuses what overflows an int64 of nanoseconds.
    total < i64::MAX as f64
}

static SCALA_DURATION: LazyLock<(Regex, Regex)> = LazyLock::new(|| {
    (
        // Go's `\d` and `\s` are ASCII; Rust's are Unicode.
        Regex::new(r"^[\t\n\f\r ]*(?:[0-9]+[\t\n\f\r ]*[A-Za-zµ]+[\t\n\f\r ]*)+$").expect("fixed pattern"),
        Regex::new(r"([0-9]+)[\t\n\f\r ]*([A-Za-zµ]+)").expect("fixed pattern"),
    )
});

/// strfmt's fallback: numbers with units, at least one of which it knows (by name, or the
/// longest name's prefix: `5 minutes`, `2 weeks`).
fn scala_duration(s: &str) -> bool {
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let (valid, parts) = &*SCALA_DURATION;
    if !valid.is_match(s) {
        return false;
    }
    let mut known = false;
    for c in parts.captures_iter(s) {
        // strconv.Atoi fails on overflow, and so does the whole parse.
        if c[1].parse::<i64>().is_err() {
            return false;
        }
        let unit = c[2].to_lowercase();
        for variants in UNITS {
            let last = variants.len() - 1;
            if variants
                .iter()
                .enumerate()
                .any(|(i, v)| (i == last && unit.starts_with(v)) || unit.eq_ignore_ascii_case(v))
            {
                known = true;
            }
        }
    }
    known
}

static BASE64: LazyLock<Regex> = LazyLock::new(|| {
    // govalidator's IsBase64.
    Regex::new(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
        .expect("fixed pattern")
});

fn is_base64(s: &str) -> bool {
    BASE64.is_match(s)
}

/// Go's `net.ParseCIDR`: an address without zone, `/`, a prefix length within its size.
fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else { return false };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else { return false };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit()) && bits.parse::<u64>().is_ok_and(|n| n <= max)
}

static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    // strfmt's HostnamePattern.
    Regex::new(r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$")
        .expect("fixed pattern")
});

/// strfmt's `IsHostname`: the pattern, at most 255 bytes, labels of at most 63.
fn is_hostname(s: &str) -> bool {
    HOSTNAME.is_match(s) && s.len() <= 255 && s.split('.').all(|l| l.len() <= 63)
}

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `xx:xx:…` or `xx-xx-…`, or `xxxx.xxxx.…`.
fn is_mac(s: &str) -> bool {
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    let sizes = |bytes: usize| matches!(bytes, 6 | 8 | 20);
    let b = s.as_bytes();
    if b.len() < 14 {
        return false;
    }
    match b[2] {
        sep @ (b':' | b'-') => {
            let groups: Vec<&str> = s.split(sep as char).collect();
            sizes(groups.len()) && groups.iter().all(|g| hex(g, 2))
        }
        _ if b[4] == b'.' => {
            let groups: Vec<&str> = s.split('.').collect();
            sizes(groups.len() * 2) && groups.iter().all(|g| hex(g, 4))
        }
        _ => false,
    }
}

/// The patterns of the govalidator functions kube-openapi registers. Go's `\d` and `\s`
/// are ASCII, so they are spelled out (the regex crate's are Unicode).
struct Govalidator {
    credit_card: Regex,
    isbn10: Regex,
    isbn13: Regex,
    hexcolor: Regex,
    rgbcolor: Regex,
    ssn: Regex,
}

static GOVALIDATOR: LazyLock<Govalidator> = LazyLock::new(|| {
    let rx = |p: &str| Regex::new(p).expect("fixed pattern");
    let byte = "(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])";
    let ws = "[\t\n\x0C\r ]*";
    Govalidator {
        credit_card: rx(
            "^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35[0-9]{3})[0-9]{11})$",
        ),
        isbn10: rx("^(?:[0-9]{9}X|[0-9]{10})$"),
        isbn13: rx("^(?:[0-9]{13})$"),
        hexcolor: rx("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"),
        rgbcolor: rx(&format!("^rgb\\({ws}{byte}{ws},{ws}{byte}{ws},{ws}{byte}{ws}\\)$")),
        ssn: rx("^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$"),
    }
});

/// govalidator's `IsSSN`: 11 bytes, three digits, two, four, with optional `-` or space.
fn is_ssn(s: &str) -> bool {
    s.len() == 11 && GOVALIDATOR.ssn.is_match(s)
}

/// govalidator's `IsCreditCard`: the digits alone (everything else dropped) match a card
/// number's pattern and pass the Luhn check.
fn is_credit_card(s: &str) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !GOVALIDATOR.credit_card.is_match(&digits) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match i % 2 {
                0 => d,
                _ if d * 2 >= 10 => d * 2 % 10 + 1,
                _ => d * 2,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// govalidator's `IsISBN` for `version` 10 or 13: ASCII spaces and dashes dropped, the
/// pattern, and the check digit.
fn is_isbn(s: &str, version: u32) -> bool {
    let clean: String = s.chars().filter(|c| !matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ' | '-')).collect();
    let d = |i: usize| u32::from(clean.as_bytes()[i] - b'0');
    if version == 10 {
        if !GOVALIDATOR.isbn10.is_match(&clean) {
            return false;
        }
        let last = if clean.as_bytes()[9] == b'X' { 10 } else { d(9) };
        ((0..9).map(|i| (i as u32 + 1) * d(i)).sum::<u32>() + 10 * last) % 11 == 0
    } else {
        if !GOVALIDATOR.isbn13.is_match(&clean) {
            return false;
        }
        let sum: u32 = (0..12).map(|i| [1, 3][i % 2] * d(i)).sum();
        d(12) == (10 - sum % 10) % 10
    }
}

/// Go's `url.ParseRequestURI` (kube-openapi's `uri`), as far as it rejects: an empty value
/// or a control character; a `:` with no scheme before it; a relative reference (no scheme,
/// not a path from `/`, not `*`); after `scheme://`, a port that is not digits, a host
/// character or `%` escape a host may not have, a user-info character outside its set; a
/// `%` not followed by two hex digits in the path. The query is not checked, as Go keeps
/// it raw; nor, as only the newest Go releases do, the address inside brackets.
fn is_request_uri(s: &str) -> bool {
    if s.is_empty() || s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if s == "*" {
        return true;
    }
    let Some((scheme, rest)) = uri_scheme(s) else { return false };
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    if !rest.starts_with('/') {
        // `mailto:x` is opaque; without a scheme it is a relative reference.
        return !scheme.is_empty();
    }
    let mut path = rest;
    if !scheme.is_empty()
        && let Some(after) = rest.strip_prefix("//")
    {
        let (authority, p) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        if !valid_authority(authority) {
            return false;
        }
        path = p;
    }
    unescapes(path, UriPart::Path)
}

/// Go's `getScheme`: letters, then letters, digits, `+`, `-` or `.`, up to a `:`; `None`
/// for a `:` first (`missing protocol scheme`), an empty scheme when there is none.
fn uri_scheme(s: &str) -> Option<(&str, &str)> {
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return None,
            b':' => return Some((&s[..i], &s[i + 1..])),
            _ => break,
        }
    }
    Some(("", s))
}

/// Go's `parseAuthority`: `[userinfo@]host[:port]`.
fn valid_authority(authority: &str) -> bool {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let port_ok = |p: &str| p.is_empty() || p.strip_prefix(':').is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if host.starts_with('[') {
        match host.rfind(']') {
            None => false,
            Some(i) => {
                let zone = host[..i].find("%25").unwrap_or(i);
                port_ok(&host[i + 1..])
                    && unescapes(&host[..zone], UriPart::Host)
                    && unescapes(&host[zone..i], UriPart::Zone)
                    && unescapes(&host[i..], UriPart::Host)
            }
        }
    } else {
        host.rfind(':').is_none_or(|i| port_ok(&host[i..])) && unescapes(host, UriPart::Host)
    };
    let userinfo_ok = userinfo.is_none_or(|u| {
        u.chars().all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c)) && unescapes(u, UriPart::Path)
    });
    host_ok && userinfo_ok
}

/// Which part of a URI `unescapes` reads: Go's `encodePath` (and user info), `encodeHost`,
/// `encodeZone`.
#[derive(Clone, Copy, PartialEq)]
enum UriPart {
    Path,
    Host,
    Zone,
}

/// Whether Go's `unescape` accepts `s`: every `%` starts two hex digits; in a host, an
/// escape only of a byte above ASCII (or `%25`) and no ASCII byte a host must escape; in a
/// zone, escapes of what a host may hold, and spaces.
fn unescapes(s: &str, part: UriPart) -> bool {
    // Go's `shouldEscape(c, encodeHost)` for ASCII.
    let host_escapes = |c: u8| !(c.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~".contains(&c));
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                return false;
            }
            let escaped = &b[i..i + 3];
            match part {
                UriPart::Host if b[i + 1] < b'8' && escaped != b"%25" => return false,
                UriPart::Zone if escaped != b"%25" => {
                    let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                    let v = hex(b[i + 1]) << 4 | hex(b[i + 2]);
                    if v != b' ' && (v >= 0x80 || host_escapes(v)) {
                        return false;
                    }
                }
                _ => {}
            }
            i += 3;
        } else {
            if part != UriPart::Path && b[i] < 0x80 && host_escapes(b[i]) {
                return false;
            }
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(name: &str, good: &[&str], bad: &[&str]) {
        let f = registered(&format!("{PREFIX}{name}")).expect(name).check;
        for g in good {
            assert!(f(g), "{name}: {g:?} should pass");
        }
        for b in bad {
            assert!(!f(b), "{name}: {b:?} should fail");
        }
    }

    #[test]
    fn formats_as_kube_openapi_checks_them() {
        checks(
            "datetime",
            &["2024-02-29T10:00:00Z", "2024-01-01t10:00:00.123+02:00", "2024-01-01T23:59:59-00:00"],
            &[
                "2024-02-30T10:00:00Z",
                "2024-01-01T10:00:00",
                "2024-01-01 10:00:00Z",
                "2024-01-01T24:00:00Z",
                "yesterday",
                "",
            ],
        );
        checks("date", &["2024-02-29", "2000-02-29"], &["2023-02-29", "1900-02-29", "2024-13-01", "2024-1-01", ""]);
        checks(
            "duration",
            &[
                "1h30m",
                "-1.5h",
                "0",
                "300ms",
                "1µs",
                "2us",
                ".5s",
                "3 days",
                "5 minutes 2 s",
                "1 fortnight 2 weeks",
                "1h 30m",
            ],
            &["", "1", "1x", "h", "1.h5", "3 fortnights", "99999999999999999999s", "1 ٣s"],
        );
        checks("byte", &["aGVsbG8=", "aGk=", "YWJj"], &["", "aGVsbG8", "a b=", "aGk==="]);
        checks(
            "uuid",
            &["123e4567-e89b-12d3-a456-426614174000", "123E4567E89B12D3A456426614174000"],
            &["123e4567-e89b"],
        );
        checks("uuid4", &["123e4567-e89b-42d3-a456-426614174000"], &["123e4567-e89b-12d3-a456-426614174000"]);
        checks("ipv4", &["10.0.0.1"], &["10.0.0.256", "010.0.0.1", "::1", "10.0.0"]);
        checks("ipv6", &["::1", "fe80::1", "::ffff:10.0.0.1"], &["10.0.0.1", "fe80::1%eth0", ":::"]);
        checks(
            "cidr",
            &["10.0.0.0/8", "10.0.0.1/32", "fd00::/64"],
            &["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "fd00::/129", "10.0.0.0/+8"],
        );
        checks("hostname", &["example.com", "a", "my-host.example.org"], &["-x.com", "a..b", "under_score.com", ""]);
        checks(
            "mac",
            &["00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e", "00:1a:2b:3c:4d:5e:6f:70"],
            &["00:1a:2b:3c:4d", "001a2b3c4d5e", "00:1a:2b:3c:4d:5g"],
        );
        checks("email", &["admin@example.com", "Ops <ops@example.com>"], &["admin", "", "example.com"]);
        checks(
            "uri",
            &[
                "https://example.com/x?y=1",
                "/healthz",
                "*",
                "mailto:ops@example.com",
                "s3://bucket/key",
                "http://[::1]:8080/metrics",
                "http://[fe80::1%25eth0]/",
                "https://user:p%40ss@example.com/",
                "https://example.com/a%20b#top",
                "https://example.com/?q=%zz",
                "http://my_host:8080",
                "http://%C3%A9t%C3%A9.example/",
                "file:///etc/hosts",
                "http://[fe80::1%25et%20h0]/",
            ],
            &[
                "",
                "example.com/x",
                "healthz",
                "?q=1",
                ":8080/x",
                "1http://x",
                "http://exa\tmple.com",
                "http://example.com:80a/",
                "https://exa mple.com/",
                "http://exa{mple.com/",
                "/path%zz",
                "http://example.com/%4",
                "http://[::1/",
                "http://[::1]x/",
                "http://us{er@example.com/",
                "http://%41host/",
                "http://[fe8%0::1%25eth0]/",
                "http://[fe80::1%25et%2Fh0]/",
            ],
        );
        checks("hexcolor", &["#ff8800", "FFF", "#abc"], &["#ff880", "ff88000", "#ggg", ""]);
        checks("rgbcolor", &["rgb(255,136,0)", "rgb( 0 , 10 , 255 )"], &["rgb(256,0,0)", "rgb(1,2)", "RGB(1,2,3)"]);
        checks("ssn", &["123-45-6789", "123 45 6789"], &["123456789", "123-45-678a", "١٢٣-45-6789"]);
        checks(
            "creditcard",
            &["4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005"],
            &["4111 1111 1111 1112", "1234 5678 9012 3456", "４111111111111111"],
        );
        checks("isbn10", &["0306406152", "0-306-40615-2", "080442957X"], &["0306406153", "030640615", "080442957x"]);
        checks("isbn13", &["9780306406157", "978-0-306-40615-7"], &["9780306406158", "978030640615"]);
        checks("isbn", &["0306406152", "9780306406157"], &["0306406153", "9780306406158"]);
        // apimachinery's TestQuantityParse invalid cases, and the corners of its parser: a
        // number without digits is zero unless the arbitrary-precision path must read it.
        checks(
            "quantity",
            &[
                "0",
                "10Gi",
                "500m",
                "1.5",
                "-3.01",
                "+1k",
                "1e3",
                "1E-3",
                "1.",
                ".5Gi",
                "1.G",
                "Gi",
                "m",
                ".",
                "-",
                "Ti",
                "e-9",
                "00Ei",
                "12E",
                "1e4294967286",
                "7e-4294967286",
            ],
            &[
                "",
                "1.1.M",
                "1+1.0M",
                "0.1mi",
                "0.1am",
                "aoeu",
                ".5i",
                "1i",
                "-3.01i",
                "-3.01e-",
                " 1",
                "1 ",
                "Pi",
                "Ei",
                "e-10",
                ".e-10",
                "e",
                "1e",
                "1ee5",
                "1e99999999999999999999",
                "0x",
            ],
        );
        checks(
            "k8sshortname",
            &["my-app", "a", "0", &"a".repeat(63)],
            &["", "My-app", "-a", "a-", "a.b", "a_b", &"a".repeat(64)],
        );
        checks(
            "k8slongname",
            &["a.b-c.d", "a", &"a".repeat(100), &"a".repeat(253)],
            &["", "a..b", "A.b", ".a", "a.", "a-.b", &"a".repeat(254)],
        );
    }

    #[test]
    fn only_string_formats_checked_here_are_registered() {
        assert_eq!(registered_name("date-time", Some("string"), 37).as_deref(), Some("kubernetes:datetime"));
        assert_eq!(registered_name("date-time", None, 37).as_deref(), Some("kubernetes:datetime"));
        assert_eq!(registered_name("int32", Some("integer"), 37), None);
        assert_eq!(registered_name("email", Some("string"), 37).as_deref(), Some("kubernetes:email"));
        assert_eq!(registered_name("password", Some("string"), 37), None);
        assert_eq!(registered_name("bsonobjectid", Some("string"), 37), None);
        assert!(!quotes_value("kubernetes:ssn") && !quotes_value("kubernetes:creditcard"));
        assert!(quotes_value("kubernetes:datetime"));
        assert_eq!(registered_name("byte", Some("integer"), 37), None);
        assert_eq!(display_name("kubernetes:datetime"), "date-time");
        assert_eq!(display_name("kubernetes:k8sshortname"), "k8s-short-name");
        // The Kubernetes name formats are checked from 1.34 on, as formats.go has it.
        assert_eq!(registered_name("k8s-short-name", Some("string"), 34).as_deref(), Some("kubernetes:k8sshortname"));
        assert_eq!(registered_name("k8s-long-name", None, 33), None);
        assert_eq!(registered_name("quantity", Some("string"), 20).as_deref(), Some("kubernetes:quantity"));
        // Each example passes its own check.
        for f in FORMATS {
            assert!((f.check)(f.example), "{}: {}", f.name, f.example);
        }
    }
}

/// `uri` against Go's own `url.ParseRequestURI`, on URIs built from pieces that exercise
/// every branch (schemes, user info, hosts with ports, IPv6 brackets and zones, escapes in
/// each part, queries), a few thousand of them. Needs the Go toolchain (`go`; `.ci/run`
/// installs Debian's golang-go), and skips with a note without it.
#[cfg(test)]
mod uri_against_go {
    use std::process::Command;

    const PROGRAM: &str = r#"package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		s, err := strconv.Unquote(in.Text())
		if err != nil {
			panic(err)
		}
		_, err = url.ParseRequestURI(s)
		fmt.Println(err == nil)
	}
}
"#;

    fn cases() -> Vec<String> {
        let schemes = ["http://", "https://", "s3://", "file://", "mailto:", "x+y:", "1a:", ":", ""];
        let users = ["", "u@", "u:p@", "u%40x@", "u{@", "%zz@", "u p@", "a@b@"];
        let hosts = [
            "example.com",
            "[::1]",
            "[::1",
            "[::1]x",
            "[fe80::1%25eth0]",
            "[fe8%0::1%25eth0]",
            "[fe80::1%25e%20t]",
            "[fe80::1%25e%2Ft]",
            "my_host",
            "%41b",
            "%C3%A9",
            "exa mple",
            "h{x}",
            "a:b:c",
            "",
            "h!$&'()*+,;=",
            "h\"q",
            "h<>",
            "h|x",
            "h^",
            "h\\x",
        ];
        let ports = ["", ":80", ":", ":8a", ":99999"];
        let paths = ["", "/", "/x", "/a%20b", "/%zz", "/%4", "/%", "/a b", "/#f", "/[x]", "/\u{e9}", "x", "x/y", "*"];
        let queries = ["", "?", "?a=%zz", "??"];
        // A deterministic walk through the combinations (no two runs differ).
        let mut out = Vec::new();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut pick = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..6000 {
            let scheme = schemes[pick(schemes.len())];
            let authority = if scheme.ends_with("//") || pick(4) == 0 {
                format!("{}{}{}", users[pick(users.len())], hosts[pick(hosts.len())], ports[pick(ports.len())])
            } else {
                String::new()
            };
            let lead = if scheme.is_empty() && !authority.is_empty() { "//" } else { "" };
            out.push(format!("{scheme}{lead}{authority}{}{}", paths[pick(paths.len())], queries[pick(queries.len())]));
        }
        out.extend(["", "*", "\t/x", "/x\u{7f}"].map(String::from));
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn uri_is_what_go_url_parse_request_uri_accepts() {
        if Command::new("go").arg("version").output().is_err() {
            eprintln!("note: no Go toolchain (`go`); the uri format is not compared with net/url");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let program = dir.path().join("main.go");
        std::fs::write(&program, PROGRAM).expect("write the program");
        let cases = cases();
        let input: String =
            cases.iter().map(|c| format!("{}\n", serde_json::to_string(c).expect("a string"))).collect();
        let input_file = dir.path().join("cases.txt");
        std::fs::write(&input_file, input).expect("write the cases");
        let out = Command::new("go")
            .arg("run")
            .arg(&program)
            .env("GOCACHE", dir.path().join("cache"))
            .env("GOPATH", dir.path().join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .env("GO111MODULE", "off")
            .stdin(std::fs::File::open(&input_file).expect("cases"))
            .output()
            .expect("go runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let verdicts: Vec<bool> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l == "true").collect();
        assert_eq!(verdicts.len(), cases.len());
        let differ: Vec<String> = cases
            .iter()
            .zip(&verdicts)
            .filter(|(c, go)| super::is_request_uri(c) != **go)
            .map(|(c, go)| format!("{c:?}: Go says {go}"))
            .collect();
        assert!(differ.is_empty(), "{} of {} differ from Go: {differ:#?}", differ.len(), cases.len());
        // Both verdicts are well represented, so the comparison means something.
        let accepted = verdicts.iter().filter(|v| **v).count();
        assert!(accepted > 500 && cases.len() - accepted > 500, "{accepted} of {}", cases.len());
    }
}
