//! JIDs (RFC 7622): `local@domain/resource`, parsed once and compared in prepared form.
//!
//! Local parts go through nodeprep, domains through nameprep (with a trailing dot dropped), resources through
//! resourceprep (the stringprep profiles of RFC 6122, which Prosody and ejabberd still apply). Anything that
//! cannot be prepared is a typed [`JidError`], never a panic: JIDs arrive from peers. A domain is either
//! letters, digits and hyphens in dot-separated labels (or non-ASCII, for internationalized names), or an IPv6
//! address in brackets; so what a JID displays as always parses back to the same JID.

use std::fmt;
use std::net::Ipv6Addr;

use super::prep;

/// A JID without resource: what contacts, rosters and conversations are keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BareJid {
    local: Option<String>,
    domain: String,
}

/// Any JID: bare, or full with a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    bare: BareJid,
    resource: Option<String>,
}

/// Why a string is not a JID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JidError {
    Empty,
    EmptyLocal,
    EmptyDomain,
    EmptyResource,
    /// A part is longer than the 1023 bytes RFC 7622 allows.
    TooLong,
    /// The local part has characters nodeprep forbids (e.g. `"&'/:<>@` or spaces).
    InvalidLocal,
    InvalidDomain,
    InvalidResource,
    /// A bare JID was required but there is a resource.
    UnexpectedResource,
}

impl fmt::Display for JidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JidError::Empty => "the address is empty",
            JidError::EmptyLocal => "nothing before the @",
            JidError::EmptyDomain => "the server part is missing",
            JidError::EmptyResource => "nothing after the /",
            JidError::TooLong => "a part of the address is too long",
            JidError::InvalidLocal => "the name before the @ has characters an address cannot contain",
            JidError::InvalidDomain => "the server part is not a valid domain",
            JidError::InvalidResource => "the resource has characters an address cannot contain",
            JidError::UnexpectedResource => "the address must not have a /resource here",
        })
    }
}

impl std::error::Error for JidError {}

const MAX_PART: usize = 1023;

fn prep_local(s: &str) -> Result<String, JidError> {
    if s.is_empty() {
        return Err(JidError::EmptyLocal);
    }
    let p = prep::nodeprep(s).map_err(|_| JidError::InvalidLocal)?;
    match p.len() {
        0 => Err(JidError::EmptyLocal),
        n if n > MAX_PART => Err(JidError::TooLong),
        _ => Ok(p.into_owned()),
    }
}

fn prep_domain(s: &str) -> Result<String, JidError> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err(JidError::EmptyDomain);
    }
    let p = prep::nameprep(s).map_err(|_| JidError::InvalidDomain)?;
    if p.len() > MAX_PART {
        return Err(JidError::TooLong);
    }
    // RFC 7622 §3.2: an IP literal in brackets must be an IPv6 address (checked after nameprep, which turns
    // full-width brackets into ASCII ones and lowercases). Kept as written: `[::1]` and `[0::1]` are two JIDs
    // (formatting addresses canonically would cost 1.4 KB of wasm for JIDs nobody uses).
    if let Some(inner) = p.strip_prefix('[') {
        let is_ipv6 = inner.strip_suffix(']').is_some_and(|a| a.parse::<Ipv6Addr>().is_ok());
        return if is_ipv6 { Ok(p.into_owned()) } else { Err(JidError::InvalidDomain) };
    }
    let ok_label = |l: &str| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-');
    if p.split('.').any(|l| !ok_label(l))
        || p.chars().any(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    {
        return Err(JidError::InvalidDomain);
    }
    Ok(p.into_owned())
}

fn prep_resource(s: &str) -> Result<String, JidError> {
    if s.is_empty() {
        return Err(JidError::EmptyResource);
    }
    let p = prep::resourceprep(s).map_err(|_| JidError::InvalidResource)?;
    match p.len() {
        0 => Err(JidError::EmptyResource),
        n if n > MAX_PART => Err(JidError::TooLong),
        _ => Ok(p.into_owned()),
    }
}

impl BareJid {
    /// Parses a bare JID; a resource, if present, is an error.
    pub fn parse(s: &str) -> Result<BareJid, JidError> {
        let jid = Jid::parse(s)?;
        match jid.resource {
            None => Ok(jid.bare),
            Some(_) => Err(JidError::UnexpectedResource),
        }
    }

    /// Builds a bare JID from a local part (if any) and a domain, preparing both.
    pub fn new(local: Option<&str>, domain: &str) -> Result<BareJid, JidError> {
        Ok(BareJid { local: local.map(prep_local).transpose()?, domain: prep_domain(domain)? })
    }

    pub fn local(&self) -> Option<&str> {
        self.local.as_deref()
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// This JID with a resource.
    pub fn with_resource(&self, resource: &str) -> Result<Jid, JidError> {
        Ok(Jid { bare: self.clone(), resource: Some(prep_resource(resource)?) })
    }
}

impl Jid {
    /// Parses any JID (RFC 7622 §3.1: the resource is everything after the first `/`; the local part is
    /// everything before the first `@` that precedes it).
    pub fn parse(s: &str) -> Result<Jid, JidError> {
        if s.is_empty() {
            return Err(JidError::Empty);
        }
        let (rest, resource) = match s.split_once('/') {
            Some((rest, res)) => (rest, Some(prep_resource(res)?)),
            None => (s, None),
        };
        let (local, domain) = match rest.split_once('@') {
            Some((local, domain)) => (Some(local), domain),
            None => (None, rest),
        };
        Ok(Jid { bare: BareJid::new(local, domain)?, resource })
    }

    pub fn bare(&self) -> &BareJid {
        &self.bare
    }

    pub fn into_bare(self) -> BareJid {
        self.bare
    }

    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    pub fn is_bare(&self) -> bool {
        self.resource.is_none()
    }
}

impl From<BareJid> for Jid {
    fn from(bare: BareJid) -> Jid {
        Jid { bare, resource: None }
    }
}

impl fmt::Display for BareJid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(local) = &self.local {
            write!(f, "{local}@")?;
        }
        f.write_str(&self.domain)
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bare)?;
        if let Some(res) = &self.resource {
            write!(f, "/{res}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Jid {
    type Err = JidError;
    fn from_str(s: &str) -> Result<Jid, JidError> {
        Jid::parse(s)
    }
}

impl std::str::FromStr for BareJid {
    type Err = JidError;
    fn from_str(s: &str) -> Result<BareJid, JidError> {
        BareJid::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_parts() {
        let j = Jid::parse("Juliet@Example.COM/Balcony").unwrap();
        assert_eq!(j.bare().local(), Some("juliet"));
        assert_eq!(j.bare().domain(), "example.com");
        assert_eq!(j.resource(), Some("Balcony"));
        assert_eq!(j.to_string(), "juliet@example.com/Balcony");
    }

    #[test]
    fn resource_may_contain_at_and_slash() {
        let j = Jid::parse("a@b.c/x@y/z").unwrap();
        assert_eq!(j.resource(), Some("x@y/z"));
        assert_eq!(j.bare().to_string(), "a@b.c");
    }

    #[test]
    fn domain_only_and_trailing_dot() {
        let j = Jid::parse("example.com.").unwrap();
        assert_eq!(j.bare().local(), None);
        assert_eq!(j.to_string(), "example.com");
    }

    #[test]
    fn refusals_are_typed() {
        assert_eq!(Jid::parse(""), Err(JidError::Empty));
        assert_eq!(Jid::parse("@example.com"), Err(JidError::EmptyLocal));
        assert_eq!(Jid::parse("user@"), Err(JidError::EmptyDomain));
        assert_eq!(Jid::parse("user@example.com/"), Err(JidError::EmptyResource));
        assert_eq!(Jid::parse("us er@example.com"), Err(JidError::InvalidLocal));
        assert_eq!(Jid::parse("a<b@example.com"), Err(JidError::InvalidLocal));
        assert_eq!(Jid::parse("user@exa mple.com"), Err(JidError::InvalidDomain));
        assert_eq!(Jid::parse("user@-bad.com"), Err(JidError::InvalidDomain));
        assert_eq!(Jid::parse(&format!("{}@x.y", "a".repeat(1024))), Err(JidError::TooLong));
    }

    #[test]
    fn bracketed_domains_must_be_ipv6_addresses() {
        // The issue's trick: full-width brackets and solidus become ASCII under NFKC, so this once displayed as
        // `m@[a]/b]`, which re-parses as `m@[a]` with the resource `b]`.
        assert_eq!(Jid::parse("m@\u{FF3B}a\u{FF3D}\u{FF0F}b\u{FF3D}"), Err(JidError::InvalidDomain));
        assert_eq!(Jid::parse("m@\u{FF3B}a\u{FF20}b\u{FF3D}"), Err(JidError::InvalidDomain));
        for bad in
            ["m@[a]", "m@[]", "m@[::1", "m@::1]", "m@[127.0.0.1]", "m@[::1]x", "m@x[::1]", "m@[[::1]]", "m@[::1%eth0]"]
        {
            assert_eq!(Jid::parse(bad), Err(JidError::InvalidDomain), "{bad}");
        }
        // Real IPv6 literals are fine, in any spelling (lowercased by nameprep).
        let j = Jid::parse("m@[2001:DB8:0:0:0:0:0:1]/r").unwrap();
        assert_eq!(j.bare().domain(), "[2001:db8:0:0:0:0:0:1]");
        assert_eq!(Jid::parse("\u{FF3B}::1\u{FF3D}").unwrap().to_string(), "[::1]");
    }

    #[test]
    fn what_is_displayed_parses_back_to_the_same_jid() {
        for s in [
            "m@\u{FF3B}a\u{FF3D}\u{FF0F}b\u{FF3D}",
            "m@\u{FF3B}::1\u{FF3D}/\u{FF0F}x",
            "Ju\u{0308}liet@\u{FF25}xample.com/\u{FF0F}b\u{FF3D}@c",
            "a@b.c/x@y/z",
            "a@[::ffff:1.2.3.4]",
            "\u{FF41}\u{FF20}b",
        ] {
            let Ok(j) = Jid::parse(s) else { continue };
            assert_eq!(Jid::parse(&j.to_string()), Ok(j.clone()), "{s} shown as {j}");
        }
    }

    #[test]
    fn bare_parse_refuses_resource() {
        assert_eq!(BareJid::parse("a@b/c"), Err(JidError::UnexpectedResource));
        assert_eq!(BareJid::parse("A@B").unwrap().to_string(), "a@b");
    }
}
