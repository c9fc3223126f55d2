//! Benchmarks of the sans-IO core: they report figures and never fail on timing.
//!
//! `cargo bench --bench core` runs them all (criterion; `-- <filter>` picks some, e.g. `-- parse_frame`);
//! `scripts/bench.sh` runs them with shorter measurement times and prints a summary table.
//!
//! | group                | what one iteration does                                             | throughput  |
//! |----------------------|---------------------------------------------------------------------|-------------|
//! | `parse_frame`        | `framing::parse_frame` on every frame of a corpus                   | bytes (MB/s)|
//! | `quick_xml_ceiling`  | a bare quick-xml `NsReader` event loop over the same frames          | bytes (MB/s)|
//! | `stanza`             | the typed layer alone: `Message`/`PresenceStanza`/`RosterQuery::parse`| stanzas     |
//! | `jid`                | `Jid::parse` (RFC 7622 preparation of every part)                    | JIDs        |
//! | `serialize`          | `Element::to_xml` of one element                                     | bytes (MB/s)|
//! | `scram`              | a whole client SCRAM exchange (start, challenge, success)            | logins      |
//! | `login`              | `Client::new` to online, fed by a scripted server: PLAIN, SCRAM, SASL2 + Bind2 with SCRAM, FAST | logins |
//! | `apply`              | frames through `Client::handle_frame` of a client, events drained    | items       |
//! | `apply/catch-up-1000`| 1,000 archived messages (20 pages + fins) through a catch-up (MAM)   | messages    |
//! | `muc`                | a room's frames through a client: a join, a burst, joins and leaves; a join followed by the catch-up of 1,000 archived messages | items |
//!
//! Naming convention the summary in `scripts/bench.sh` relies on: in `parse_frame`, `quick_xml_ceiling` and
//! `apply`, the benchmark parameter is the number of frames fed per iteration (e.g.
//! `parse_frame/messages/1000-frames`), so frames/s = that number / time per iteration.

mod corpus;
mod muc;
mod scram_server;
mod session;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use natter::xmpp::framing::{self, DEFAULT_MAX_FRAME, Frame};
use natter::xmpp::jid::{BareJid, Jid};
use natter::xmpp::sasl::{Credentials, ScramHash, ScramLimits, scram_start};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::stanza::presence::PresenceStanza;
use natter::xmpp::stanza::roster::{self, ROSTER_NS, RosterItem, RosterQuery};
use natter::xmpp::xml::Element;
use natter::xmpp::{Client, Event};
use quick_xml::NsReader;
use quick_xml::events::Event as XmlEvent;
use web_time::Instant;

use corpus::{archive_pages, bytes, messages, presences, roster_result};
use scram_server::ScramServer;
use session::{ROSTER_ID, Sink};

const MESSAGES_PARSED: usize = 1_000;
const PRESENCES_PARSED: usize = 1_000;
const ROSTER_ITEMS: usize = 2_000;
const MESSAGES_APPLIED: usize = 10_000;
/// A catch-up of this many archived messages, in pages of `ARCHIVE_PAGE` (Prosody's largest).
const ARCHIVED: usize = 1_000;
const ARCHIVE_PAGE: usize = 50;
const PASSWORD: &str = "pencil";

/// The corpora, printed once so the figures can be read against what was measured.
struct Corpus {
    messages: Vec<String>,
    presences: Vec<String>,
    roster: Vec<String>,
}

fn corpus() -> Corpus {
    let c = Corpus {
        messages: messages(MESSAGES_PARSED, ROSTER_ITEMS, 1),
        presences: presences(PRESENCES_PARSED, ROSTER_ITEMS, 2),
        roster: vec![roster_result(ROSTER_ITEMS, ROSTER_ID, 3)],
    };
    for (name, frames) in [("messages", &c.messages), ("presence", &c.presences), ("roster", &c.roster)] {
        let b = bytes(frames);
        eprintln!(
            "corpus {name}: {} frames, {b} bytes ({} bytes/frame on average)",
            frames.len(),
            b / frames.len() as u64
        );
    }
    c
}

/// A frame limit that admits the corpus: the 2,000-item roster may exceed the 256 KiB default.
fn max_frame(c: &Corpus) -> usize {
    let roster = c.roster[0].len();
    if roster > DEFAULT_MAX_FRAME {
        eprintln!(
            "note: the {ROSTER_ITEMS}-item roster result is {roster} bytes, over the default frame limit of \
             {DEFAULT_MAX_FRAME}; the benchmarks raise Config::max_frame to admit it"
        );
    }
    roster.max(DEFAULT_MAX_FRAME)
}

// ---- parse -------------------------------------------------------------------------------------------------

/// The bare quick-xml loop: every event read and its namespace resolved, nothing built.
fn nsreader_events(frame: &str) -> usize {
    let mut reader = NsReader::from_str(frame);
    let mut n = 0;
    loop {
        match reader.read_resolved_event() {
            Ok((_, XmlEvent::Eof)) => return n,
            Ok(event) => {
                black_box(&event);
                n += 1;
            }
            Err(e) => panic!("corpus is not well-formed: {e}"),
        }
    }
}

fn parse(c: &mut Criterion) {
    let corpus = corpus();
    let sets = [("messages", &corpus.messages), ("presence", &corpus.presences), ("roster-2000", &corpus.roster)];

    // Check once that every frame is accepted and classified as a stanza.
    for (name, frames) in sets {
        for f in frames.iter() {
            match framing::parse_frame(f, usize::MAX) {
                Ok(Frame::Stanza(_)) => {}
                other => panic!("{name} frame not a stanza: {other:?}\n{f}"),
            }
        }
    }

    let mut g = c.benchmark_group("parse_frame");
    for (name, frames) in sets {
        g.throughput(Throughput::BytesDecimal(bytes(frames)));
        g.bench_with_input(BenchmarkId::new(name, format!("{}-frames", frames.len())), frames, |b, frames| {
            b.iter(|| {
                for f in frames {
                    black_box(framing::parse_frame(black_box(f), usize::MAX).unwrap());
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("quick_xml_ceiling");
    for (name, frames) in sets {
        g.throughput(Throughput::BytesDecimal(bytes(frames)));
        g.bench_with_input(BenchmarkId::new(name, format!("{}-frames", frames.len())), frames, |b, frames| {
            b.iter(|| {
                for f in frames {
                    black_box(nsreader_events(black_box(f)));
                }
            })
        });
    }
    g.finish();
}

// ---- the typed stanza layer and JIDs, on already parsed elements -------------------------------------------

fn stanza(c: &mut Criterion) {
    let corpus = corpus();
    let tree = |frames: &[String]| -> Vec<Element> { frames.iter().map(|f| Element::parse(f).unwrap()).collect() };
    let (msgs, pres) = (tree(&corpus.messages), tree(&corpus.presences));
    let roster = Element::parse(&corpus.roster[0]).unwrap();
    let query = roster.get_child(ROSTER_NS, "query").unwrap();
    assert_eq!(RosterQuery::parse(query).items.len(), ROSTER_ITEMS);

    let mut g = c.benchmark_group("stanza");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function(BenchmarkId::new("Message::parse", msgs.len()), |b| {
        b.iter(|| msgs.iter().map(|m| Message::parse(black_box(m)).is_some() as usize).sum::<usize>())
    });
    g.throughput(Throughput::Elements(pres.len() as u64));
    g.bench_function(BenchmarkId::new("PresenceStanza::parse", pres.len()), |b| {
        b.iter(|| pres.iter().map(|p| PresenceStanza::parse(black_box(p)).is_some() as usize).sum::<usize>())
    });
    g.throughput(Throughput::Elements(ROSTER_ITEMS as u64));
    g.bench_function(BenchmarkId::new("RosterQuery::parse", ROSTER_ITEMS), |b| {
        b.iter(|| RosterQuery::parse(black_box(query)))
    });
    g.finish();

    // The addresses a session parses most: full JIDs in `from`, and bare ones in the roster.
    let full: Vec<&str> = msgs.iter().filter_map(|m| m.attr("from")).collect();
    let bare: Vec<&str> = query.elements().filter_map(|i| i.attr("jid")).collect();
    let mut g = c.benchmark_group("jid");
    for (name, jids) in [("full-from-messages", &full), ("bare-from-roster", &bare)] {
        g.throughput(Throughput::Elements(jids.len() as u64));
        g.bench_with_input(BenchmarkId::new(name, jids.len()), jids, |b, jids| {
            b.iter(|| jids.iter().map(|j| Jid::parse(black_box(j)).is_ok() as usize).sum::<usize>())
        });
    }
    g.finish();
}

// ---- serialize ---------------------------------------------------------------------------------------------

fn serialize(c: &mut Criterion) {
    let mut msg = Message::chat(
        Jid::parse("bob@example.net/phone").unwrap(),
        "Did you see the build failed again? The wasm step & the e2e job both timed out <again>. Ça va ? 👍",
    );
    msg.id = Some("c0ffee42-5d1a-4e6b-9f3c-1a2b3c4d5e6f".into());
    msg.thread = Some("e0ffe42b28".into());
    let message = msg.to_element();

    let mut item = RosterItem::new(BareJid::parse("chloé.dubois7@example.net").unwrap());
    item.name = Some("Chloé Dubois".into());
    item.groups = vec!["Friends".into(), "Book <club>".into()];
    let roster_set = Element::new(framing::CLIENT_NS, "iq")
        .with_attr("type", "set")
        .with_attr("id", "t-17")
        .with_child(roster::set_query(&item));

    let roster_2000 = Element::parse(&roster_result(ROSTER_ITEMS, ROSTER_ID, 3)).unwrap();

    let mut g = c.benchmark_group("serialize");
    for (name, el) in [("message", &message), ("roster-set", &roster_set), ("roster-result-2000", &roster_2000)] {
        g.throughput(Throughput::BytesDecimal(el.to_xml().len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), el, |b, el| b.iter(|| black_box(el).to_xml()));
    }
    g.finish();
}

// ---- SCRAM -------------------------------------------------------------------------------------------------

fn scram(c: &mut Criterion) {
    let mut g = c.benchmark_group("scram");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).throughput(Throughput::Elements(1));
    let limits = ScramLimits { min_iterations: 4096, max_iterations: 1_000_000 };
    for hash in [ScramHash::Sha1, ScramHash::Sha256, ScramHash::Sha512] {
        for iterations in [4_096, 10_000] {
            let server = ScramServer::new(hash, PASSWORD, iterations);
            g.bench_function(BenchmarkId::new(hash.name(), iterations), |b| {
                b.iter(|| {
                    let (state, first) = scram_start(
                        hash,
                        "user",
                        Credentials::Password(PASSWORD.into()),
                        "rOprNGfwEbeRWgbNEkqO",
                        limits,
                        None,
                    )
                    .unwrap();
                    let (server, server_first) = server.first(&first);
                    let (state, client_final) = state.handle_challenge(&server_first).unwrap();
                    let server_final = server.last(&client_final);
                    black_box(state.handle_success(Some(&server_final)).unwrap())
                })
            });
        }
    }
    g.finish();
}

// ---- whole login -------------------------------------------------------------------------------------------

fn login(c: &mut Criterion) {
    let now = Instant::now();
    let mut g = c.benchmark_group("login");
    g.throughput(Throughput::Elements(1));

    // The session's own work, without PBKDF2: PLAIN.
    g.bench_function("PLAIN", |b| {
        b.iter(|| {
            let config = session::config(PASSWORD, true, DEFAULT_MAX_FRAME);
            let mut client = session::loading_roster(config, now);
            client.handle_frame(
                "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>",
                now,
            );
            assert!(client.is_online());
            client
        })
    });

    // XEP-0484 FAST: a token instead of PBKDF2 (SASL2 + Bind2, one round trip for the authentication).
    g.bench_function("FAST/HT-SHA-256-NONE", |b| {
        b.iter(|| {
            let config = session::modern_config(Credentials::Token(session::token()));
            let (client, sink) = session::fast_login(config, now);
            assert!(client.is_online(), "{:?}", sink.events);
            (client, sink)
        })
    });

    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    let server = ScramServer::new(ScramHash::Sha256, PASSWORD, 4096);
    g.bench_function(BenchmarkId::new("SCRAM-SHA-256", 4096), |b| {
        b.iter(|| {
            let config = session::config(PASSWORD, false, DEFAULT_MAX_FRAME);
            let (client, sink) = session::scram_login(&server, "SCRAM-SHA-256", config, now);
            assert!(client.is_online(), "{:?}", sink.events);
            (client, sink)
        })
    });
    g.bench_function(BenchmarkId::new("SASL2+Bind2/SCRAM-SHA-256", 4096), |b| {
        b.iter(|| {
            let config = session::modern_config(Credentials::Password(PASSWORD.into()));
            let (client, sink) = session::sasl2_login(&server, config, now);
            assert!(client.is_online(), "{:?}", sink.events);
            (client, sink)
        })
    });
    g.finish();
}

// ---- applying frames to the model --------------------------------------------------------------------------

/// Feeds `frames` to `client` like the transport does: one frame, then drain, then the next.
fn feed(client: &mut Client, frames: &[String], now: Instant) -> Sink {
    let mut sink = Sink::default();
    for f in frames {
        client.handle_frame(f, now);
        sink.drain(client);
    }
    sink
}

fn apply(c: &mut Criterion) {
    let now = Instant::now();
    let corpus = corpus();
    let max = max_frame(&corpus);
    let roster = &corpus.roster;
    let msgs = messages(MESSAGES_APPLIED, ROSTER_ITEMS, 4);
    let pres = presences(ROSTER_ITEMS, ROSTER_ITEMS, 5);
    let config = || session::config(PASSWORD, true, max);

    // Check once that the frames do what they should.
    {
        let mut client = session::loading_roster(config(), now);
        let sink = feed(&mut client, roster, now);
        let items = sink.events.iter().find_map(|e| match e {
            Event::Roster { items, .. } => Some(items.len()),
            _ => None,
        });
        assert_eq!(items, Some(ROSTER_ITEMS), "roster applied: {:?}", &sink.events[..sink.events.len().min(3)]);
        let sink = feed(&mut client, &msgs, now);
        let shown = sink.events.iter().filter(|e| matches!(e, Event::Message(_))).count();
        eprintln!("apply: {MESSAGES_APPLIED} message frames -> {shown} Event::Message (the rest carry no body)");
        let sink = feed(&mut client, &pres, now);
        let changes = sink.events.iter().filter(|e| matches!(e, Event::ContactPresence { .. })).count();
        eprintln!("apply: {ROSTER_ITEMS} presence frames -> {changes} Event::ContactPresence");
        assert!(client.is_online());
    }

    let mut g = c.benchmark_group("apply");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);

    g.throughput(Throughput::Elements(ROSTER_ITEMS as u64));
    g.bench_function(BenchmarkId::new("roster-2000-items", "1-frames"), |b| {
        b.iter_batched(
            || session::loading_roster(config(), now),
            |mut client| {
                let sink = feed(&mut client, roster, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });

    g.throughput(Throughput::Elements(MESSAGES_APPLIED as u64));
    g.bench_function(BenchmarkId::new("messages-10000", format!("{MESSAGES_APPLIED}-frames")), |b| {
        b.iter_batched(
            || session::online(config(), &roster[0], now),
            |mut client| {
                let sink = feed(&mut client, &msgs, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });

    g.throughput(Throughput::Elements(ROSTER_ITEMS as u64));
    g.bench_function(BenchmarkId::new("presence-2000", format!("{ROSTER_ITEMS}-frames")), |b| {
        b.iter_batched(
            || session::online(config(), &roster[0], now),
            |mut client| {
                let sink = feed(&mut client, &pres, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// A client online and caught up to archive id "0", its archive's features just answered: it has asked for
/// the first page of its catch-up (query `t-mam1`, iq `t-5`; the next pages follow as `t-mam2`/`t-6`, …).
fn catching_up(max: usize, now: Instant) -> Client {
    let mut config = session::config(PASSWORD, true, max);
    config.history.catch_up = true;
    config.history.last_id = Some("0".into());
    config.bookmarks = false;
    let roster = "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>";
    let mut client = session::online(config, roster, now);
    // Carbons are `t-3`, the archive's features `t-4`.
    client.handle_frame(
        "<iq xmlns='jabber:client' type='result' id='t-4' from='alice@example.com'><query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:mam:2'/></query></iq>",
        now,
    );
    let mut sink = Sink::default();
    sink.drain(&mut client);
    assert!(sink.frames.iter().any(|f| f.contains("queryid='t-mam1'") && f.contains("id='t-5'")), "{:?}", sink.frames);
    client
}

/// The catch-up at login: `ARCHIVED` archived messages in pages, from the result frames to the events.
fn catch_up(c: &mut Criterion) {
    let now = Instant::now();
    let frames = archive_pages(
        ARCHIVED,
        ARCHIVE_PAGE,
        ROSTER_ITEMS,
        6,
        |p| format!("t-mam{}", p + 1),
        |p| format!("t-{}", p + 5),
    );
    eprintln!(
        "corpus archive: {} frames, {} bytes ({ARCHIVED} results in pages of {ARCHIVE_PAGE})",
        frames.len(),
        bytes(&frames)
    );
    {
        let mut client = catching_up(DEFAULT_MAX_FRAME, now);
        let sink = feed(&mut client, &frames, now);
        let pages: Vec<usize> = sink
            .events
            .iter()
            .filter_map(|e| if let Event::ArchivePage(p) = e { Some(p.messages.len()) } else { None })
            .collect();
        assert_eq!(pages.iter().sum::<usize>(), ARCHIVED, "every archived message in a page: {pages:?}");
        assert_eq!(pages.len(), ARCHIVED.div_ceil(ARCHIVE_PAGE));
        assert!(matches!(sink.events.last(), Some(Event::CaughtUp)), "{:?}", sink.events.last());
        eprintln!("apply: {} archive frames -> {ARCHIVED} archived messages in {} pages", frames.len(), pages.len());
    }
    let mut g = c.benchmark_group("apply");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    g.throughput(Throughput::Elements(ARCHIVED as u64));
    g.bench_function(BenchmarkId::new("catch-up-1000", format!("{}-frames", frames.len())), |b| {
        b.iter_batched(
            || catching_up(DEFAULT_MAX_FRAME, now),
            |mut client| {
                let sink = feed(&mut client, &frames, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

// ---- group chat ------------------------------------------------------------------------------------------

const ROOM_OCCUPANTS: usize = 5_000;
const ROOM_MESSAGES: usize = 1_000;
const ROOM_CHURN: usize = 500;
/// Archived messages of the room caught up after the join.
const ROOM_ARCHIVED: usize = 1_000;
const MAX_OCCUPANTS: usize = natter::xmpp::client::muc::MAX_OCCUPANTS;

fn room_events(sink: &Sink) -> (usize, usize) {
    let room = sink.events.iter().filter(|e| matches!(e, Event::Room(_))).count();
    let changes = sink
        .events
        .iter()
        .map(|e| match e {
            Event::Room(natter::xmpp::client::RoomEvent::Occupants { changes, .. }) => changes.len(),
            Event::Room(natter::xmpp::client::RoomEvent::Joined { occupants, .. }) => occupants.len(),
            _ => 0,
        })
        .sum();
    (room, changes)
}

fn muc(c: &mut Criterion) {
    let now = Instant::now();
    let roster = "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>";
    let config = || {
        let mut c = session::config(PASSWORD, true, DEFAULT_MAX_FRAME);
        c.bookmarks = false;
        c
    };
    let catching_up_config = || {
        let mut c = config();
        c.history.catch_up = true;
        c
    };
    let join = muc::join_frames(ROOM_OCCUPANTS);
    let burst = muc::message_frames(ROOM_MESSAGES);
    let churn = muc::churn_frames(ROOM_CHURN);
    // 1,000 presences over 10 s of virtual time.
    let churn_step = Duration::from_millis(10_000 / (2 * ROOM_CHURN as u64));

    // What the frames make, once (the figures to read the timings against).
    {
        let mut client = muc::joining(config(), roster, now);
        let sink = feed(&mut client, &join, now);
        let (events, listed) = room_events(&sink);
        eprintln!(
            "muc: join of {ROOM_OCCUPANTS} occupants: {} frames -> {events} room event(s), {listed} occupants listed",
            join.len()
        );
        assert_eq!(listed, ROOM_OCCUPANTS);
        let sink = feed(&mut client, &burst, now);
        let (events, _) = room_events(&sink);
        eprintln!("muc: burst: {} frames -> {events} room events", burst.len());
        let sink = muc::feed_in_time(&mut client, &churn, now, churn_step);
        let (events, changes) = room_events(&sink);
        eprintln!(
            "muc: {ROOM_CHURN} joining and leaving: {} frames over 10 s -> {events} Occupants events carrying {changes} changes",
            churn.len()
        );
        let held = natter::xmpp::client::HistoryPoint::id("r-held");
        let mut client = muc::joining_holding(catching_up_config(), roster, Some(held), now);
        let sink = muc::join_and_catch_up(&mut client, &join, ROOM_ARCHIVED, ARCHIVE_PAGE, now);
        let pages: Vec<usize> = sink
            .events
            .iter()
            .filter_map(|e| if let Event::ArchivePage(p) = e { Some(p.messages.len()) } else { None })
            .collect();
        let caught_up =
            sink.events.iter().any(|e| matches!(e, Event::Room(natter::xmpp::client::RoomEvent::CaughtUp { .. })));
        eprintln!(
            "muc: join of {ROOM_OCCUPANTS} then {ROOM_ARCHIVED} archived: {} archive pages carrying {} messages, caught up: {caught_up}",
            pages.len(),
            pages.iter().sum::<usize>()
        );
        assert_eq!((pages.iter().sum::<usize>(), caught_up), (ROOM_ARCHIVED, true));
    }

    let mut g = c.benchmark_group("muc");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    // 5,000, and the cap (20,000): linear work shows as the same time per frame.
    for (n, frames) in [(ROOM_OCCUPANTS, &join), (MAX_OCCUPANTS, &muc::join_frames(MAX_OCCUPANTS))] {
        g.throughput(Throughput::Elements(frames.len() as u64));
        g.bench_function(BenchmarkId::new(format!("join-{n}-occupants"), format!("{}-frames", frames.len())), |b| {
            b.iter_batched(
                || muc::joining(config(), roster, now),
                |mut client| {
                    let sink = feed(&mut client, frames, now);
                    (client, sink)
                },
                BatchSize::PerIteration,
            )
        });
    }
    // A join of 5,000 followed by the catch-up of 1,000 archived messages (pages of 50, as Prosody sends).
    let archived_join = muc::join_frames(ROOM_OCCUPANTS);
    let held = natter::xmpp::client::HistoryPoint::id("r-held");
    g.throughput(Throughput::Elements((ROOM_OCCUPANTS + ROOM_ARCHIVED) as u64));
    g.bench_function(BenchmarkId::new(format!("join-{ROOM_OCCUPANTS}-then-{ROOM_ARCHIVED}-archived"), "items"), |b| {
        b.iter_batched(
            || muc::joining_holding(catching_up_config(), roster, Some(held.clone()), now),
            |mut client| {
                let sink = muc::join_and_catch_up(&mut client, &archived_join, ROOM_ARCHIVED, ARCHIVE_PAGE, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Elements(burst.len() as u64));
    g.bench_function(BenchmarkId::new("burst-1000-messages", format!("{}-frames", burst.len())), |b| {
        b.iter_batched(
            || muc::joined(config(), roster, 50, now),
            |mut client| {
                let sink = feed(&mut client, &burst, now);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Elements(churn.len() as u64));
    g.bench_function(BenchmarkId::new("churn-500-occupants", format!("{}-frames", churn.len())), |b| {
        b.iter_batched(
            || muc::joined(config(), roster, ROOM_OCCUPANTS, now),
            |mut client| {
                let sink = muc::feed_in_time(&mut client, &churn, now, churn_step);
                (client, sink)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn config() -> Criterion {
    // Shorter than criterion's defaults (3 s warm-up, 5 s measurement) so `cargo bench` takes minutes;
    // command-line flags (--warm-up-time, --measurement-time, --sample-size) still override these.
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, stanza, serialize, scram, login, apply, catch_up, muc
}
criterion_main!(benches);
