//! Realistic, deterministic input for the benchmarks: what a busy account's server sends over a session.
//!
//! Everything is generated from a fixed seed, so every run (and every machine) measures the same bytes. The
//! shapes follow what Prosody and ejabberd send to a modern client: chat messages carrying chat states
//! (XEP-0085), receipt requests (XEP-0184), markers (XEP-0333), origin and stanza ids (XEP-0359) and the odd
//! delayed one (XEP-0203); presence with caps (XEP-0115) and vCard avatar hashes (XEP-0153); a roster result
//! with names, groups and every subscription state. Text includes escaped characters and non-ASCII.

use std::fmt::Write as _;

/// Our account and the resource the server bound.
pub const ACCOUNT: &str = "alice@example.com";
pub const BOUND: &str = "alice@example.com/web";

/// A tiny deterministic PRNG (SplitMix64): the corpus must not depend on a crate's RNG algorithm.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A UUID-looking id (what Conversations, Dino and Gajim put in `id`).
    pub fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            b >> 52,
            b & 0xFFFF_FFFF_FFFF
        )
    }

    pub fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            write!(s, "{:016x}", self.next()).unwrap();
        }
        s.truncate(len);
        s
    }
}

const FIRST: &[&str] = &[
    "anna", "björn", "chloé", "dmitri", "emeka", "fatima", "guo", "hana", "ines", "jonas", "kofi", "lucía", "mateus",
    "noor", "olek", "priya", "quentin", "rosa", "sven", "tariq", "ursula", "valentin", "wen", "ximena", "yusuf", "zoé",
];
const LAST: &[&str] = &[
    "abara",
    "becker",
    "costa",
    "dubois",
    "eriksen",
    "fischer",
    "garcía",
    "haddad",
    "ivanova",
    "jensen",
    "kowalski",
    "lindqvist",
    "moreau",
    "nakamura",
    "okafor",
    "petrov",
    "quispe",
    "rossi",
    "schmidt",
    "tanaka",
];
const DOMAINS: &[&str] = &["example.net", "jabber.example.org", "chat.example.de", "xmpp.example.jp", "example.com"];
const RESOURCES: &[&str] = &["phone", "laptop", "Conversations.x7Hq", "gajim.B2K9", "dino.5f1c", "web"];
const GROUPS: &[&str] = &["Friends", "Family", "Work", "Football club", "Ünï & Co", "Book <club>", "Neighbours"];

const SENTENCES: &[&str] = &[
    "hi!",
    "are you around?",
    "Running 5 min late, sorry",
    "Did you see the build failed again? The wasm step & the e2e job both timed out.",
    "lol",
    "Ça va ? On se voit demain à 10 h ?",
    "<3",
    "if a < b && b > c then \"it's fine\"",
    "OK 👍",
    "Here's the link: https://example.org/issues/4711?tab=comments&sort=newest#c12",
    "明日の会議は三時からです。資料を送ります。",
    "Kannst du mir die Präsentation schicken? Die mit den Grafiken zu Q3.",
    "Sure, will do.",
    "/me waves",
    "I'm at the station now, the train's delayed by twenty minutes again, so grab a table if you get there first.",
    "Привет! Как дела?",
    "👀🎉🎂",
    "Thanks — that fixed it.",
];

/// `n` consecutive sentences, XML-escaped for element content.
fn body_text(rng: &mut Rng) -> String {
    // Mostly short messages, now and then a paragraph.
    let n = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2 + rng.below(2),
        _ => 5 + rng.below(6),
    };
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(SENTENCES));
    }
    escape(&s)
}

/// Escapes for element content and single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The bare JID of contact `i` (stable: the roster, messages and presence all use the same contacts).
pub fn contact(i: usize) -> String {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let domain = DOMAINS[i % DOMAINS.len()];
    format!("{first}.{last}{i}@{domain}")
}

fn display_name(i: usize) -> String {
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    };
    format!("{} {}", cap(FIRST[i % FIRST.len()]), cap(LAST[(i / FIRST.len()) % LAST.len()]))
}

/// `count` message frames from `contacts` different contacts, in the proportions a real session shows.
pub fn messages(count: usize, contacts: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let from = format!("{}/{}", contact(rng.below(contacts)), rng.pick(RESOURCES));
            let id = rng.uuid();
            let head = format!(
                "<message xmlns='jabber:client' from='{from}' to='{BOUND}' type='chat' id='{id}' xml:lang='en'>"
            );
            let tail = match rng.below(100) {
                // A chat message with body and the usual extensions.
                0..=69 => {
                    let body = body_text(&mut rng);
                    let origin = rng.uuid();
                    let stanza_id = rng.uuid();
                    format!(
                        "<body>{body}</body><active xmlns='http://jabber.org/protocol/chatstates'/>\
                         <request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>\
                         <origin-id xmlns='urn:xmpp:sid:0' id='{origin}'/>\
                         <stanza-id xmlns='urn:xmpp:sid:0' id='{stanza_id}' by='{ACCOUNT}'/></message>"
                    )
                }
                // Typing notifications: no body.
                70..=84 => {
                    let state = rng.pick(&["composing", "paused", "active", "inactive"]);
                    format!(
                        "<{state} xmlns='http://jabber.org/protocol/chatstates'/>\
                         <no-store xmlns='urn:xmpp:hints'/></message>"
                    )
                }
                // Receipts and markers for what we sent.
                85..=94 => {
                    let of = rng.uuid();
                    if rng.chance(50) {
                        format!("<received xmlns='urn:xmpp:receipts' id='{of}'/></message>")
                    } else {
                        format!("<displayed xmlns='urn:xmpp:chat-markers:0' id='{of}'/></message>")
                    }
                }
                // Delivered from offline storage.
                _ => {
                    let body = body_text(&mut rng);
                    format!(
                        "<body>{body}</body><delay xmlns='urn:xmpp:delay' from='example.com' \
                         stamp='2026-11-{:02}T{:02}:{:02}:{:02}Z'>Offline Storage</delay></message>",
                        1 + rng.below(26),
                        rng.below(24),
                        rng.below(60),
                        rng.below(60)
                    )
                }
            };
            head + &tail
        })
        .collect()
}

/// `count` presence frames from `contacts` different contacts: mostly available (with caps and avatar
/// hash), some unavailable.
pub fn presences(count: usize, contacts: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let from = if count == contacts { i } else { rng.below(contacts) };
            presence(&mut rng, from)
        })
        .collect()
}

/// One presence frame from contact `i`.
fn presence(rng: &mut Rng, i: usize) -> String {
    let from = format!("{}/{}", contact(i), rng.pick(RESOURCES));
    if rng.chance(15) {
        return format!("<presence xmlns='jabber:client' from='{from}' to='{BOUND}' type='unavailable'/>");
    }
    let mut s = format!("<presence xmlns='jabber:client' from='{from}' to='{BOUND}' xml:lang='en'>");
    if rng.chance(45) {
        write!(s, "<show>{}</show>", rng.pick(&["away", "chat", "dnd", "xa"])).unwrap();
    }
    if rng.chance(40) {
        let status = rng.pick(&["In a meeting", "On the train 🚆", "Back at 3", "Busy & tired", "¡Hola!"]);
        write!(s, "<status>{}</status>", escape(status)).unwrap();
    }
    write!(s, "<priority>{}</priority>", rng.below(50)).unwrap();
    let node = rng.pick(&["https://conversations.im", "https://gajim.org", "https://dino.im", "https://psi-im.org"]);
    write!(s, "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='{node}' ver='{}='/>", rng.hex(27))
        .unwrap();
    write!(s, "<x xmlns='vcard-temp:x:update'><photo>{}</photo></x>", rng.hex(40)).unwrap();
    if rng.chance(10) {
        s.push_str("<delay xmlns='urn:xmpp:delay' from='example.com' stamp='2026-11-26T08:00:00Z'/>");
    }
    s.push_str("</presence>");
    s
}

/// The roster result (RFC 6121 §2.1.4) with `items` contacts, answering our roster get `id`.
pub fn roster_result(items: usize, id: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut s = format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' to='{BOUND}'><query xmlns='jabber:iq:roster' ver='ver{}'>",
        rng.below(1000)
    );
    for i in 0..items {
        let sub = match rng.below(10) {
            0..=6 => "both",
            7 => "to",
            8 => "from",
            _ => "none",
        };
        write!(s, "<item jid='{}' subscription='{sub}'", contact(i)).unwrap();
        if rng.chance(90) {
            write!(s, " name='{}'", escape(&display_name(i))).unwrap();
        }
        if sub == "none" && rng.chance(50) {
            s.push_str(" ask='subscribe'");
        }
        s.push('>');
        for _ in 0..rng.below(3) {
            write!(s, "<group>{}</group>", escape(rng.pick(GROUPS))).unwrap();
        }
        s.push_str("</item>");
    }
    s.push_str("</query></iq>");
    s
}

/// Total bytes of a set of frames.
pub fn bytes(frames: &[String]) -> u64 {
    frames.iter().map(|f| f.len() as u64).sum()
}

/// The frames of a catch-up of `count` archived messages (XEP-0313) in pages of `page`: for page `p` (from
/// 0), the `<result/>` messages answering query `queryid(p)`, then the iq result `iq_id(p)` with its `<fin/>`
/// (`complete` on the last). Messages come from `contacts` contacts, with some of our own (from another
/// device) among them, and carry what a modern client sends (ids, chat state, receipt and marker requests).
pub fn archive_pages(
    count: usize,
    page: usize,
    contacts: usize,
    seed: u64,
    queryid: impl Fn(usize) -> String,
    iq_id: impl Fn(usize) -> String,
) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let pages = count.div_ceil(page);
    let mut frames = Vec::with_capacity(count + pages);
    for p in 0..pages {
        let in_page = page.min(count - p * page);
        let (mut first, mut last) = (String::new(), String::new());
        for i in 0..in_page {
            let n = p * page + i;
            let peer = contact(rng.below(contacts));
            let (from, to) = if rng.chance(20) {
                (BOUND.to_owned(), peer.clone())
            } else {
                (format!("{peer}/{}", rng.pick(RESOURCES)), ACCOUNT.to_owned())
            };
            let archive_id = format!("{:016x}", 0x1796_4312_3066_0000u64 + n as u64);
            let (id, origin) = (rng.uuid(), rng.uuid());
            let body = body_text(&mut rng);
            let (day, hour, minute) = (1 + n / 1440 % 28, n / 60 % 24, n % 60);
            let stamp =
                format!("2026-11-{day:02}T{hour:02}:{minute:02}:{:02}.{:06}Z", rng.below(60), rng.below(1_000_000));
            frames.push(format!(
                "<message xmlns='jabber:client' to='{BOUND}' from='{ACCOUNT}'><result xmlns='urn:xmpp:mam:2' \
                 queryid='{}' id='{archive_id}'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' \
                 stamp='{stamp}'/><message xmlns='jabber:client' from='{from}' to='{to}' type='chat' id='{id}' \
                 xml:lang='en'><body>{body}</body><active xmlns='http://jabber.org/protocol/chatstates'/>\
                 <request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>\
                 <origin-id xmlns='urn:xmpp:sid:0' id='{origin}'/></message></forwarded></result></message>",
                queryid(p)
            ));
            if i == 0 {
                first = archive_id.clone();
            }
            last = archive_id;
        }
        let complete = if p + 1 == pages { " complete='true'" } else { "" };
        frames.push(format!(
            "<iq xmlns='jabber:client' type='result' id='{}' to='{BOUND}'><fin xmlns='urn:xmpp:mam:2'{complete}>\
             <set xmlns='http://jabber.org/protocol/rsm'><first>{first}</first><last>{last}</last>\
             <count>{count}</count></set></fin></iq>",
            iq_id(p)
        ));
    }
    frames
}
