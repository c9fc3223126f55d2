//! Message Archive Management (XEP-0313, `urn:xmpp:mam:2`) with Result Set Management (XEP-0059): the query
//! (data form + RSM paging), each `<result/>` wrapping an archived message, and the closing `<fin/>`, parsed
//! and serialized both ways (the client sends queries and reads results; the tests' scripted server does the
//! opposite).
//!
//! This module only reads and writes elements. Which results to trust (our `queryid`, from the right
//! archive), how to page, and what a page means for the transcript are the session's (`client::mam`).

use crate::xmpp::framing::CLIENT_NS;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::dataform::{DataForm, Field};
use crate::xmpp::stanza::delay;
use crate::xmpp::stanza::disco::{RSM_NS, ResultSet};
use crate::xmpp::stanza::message::{DELAY_NS, FORWARD_NS};
use crate::xmpp::stanza::sid::MAX_ID;
use crate::xmpp::xml::Element;

pub const MAM_NS: &str = "urn:xmpp:mam:2";
/// Advertised by archives that understand the `after-id`/`before-id` form fields (XEP-0313 §7.1.1.1).
pub const MAM_EXTENDED: &str = "urn:xmpp:mam:2#extended";

/// Which page of the matching messages to return (XEP-0059 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The oldest messages that match.
    First,
    /// The oldest messages after this archive id.
    After(String),
    /// The newest messages before this archive id.
    Before(String),
    /// The newest messages that match (`<before/>`, empty).
    Last,
}

/// Which messages match (the query's data form, XEP-0313 §4.1.1). Times are milliseconds since the Unix
/// epoch, UTC; `start` and `end` are inclusive. `after_id`/`before_id` only for `#extended` archives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub with: Option<BareJid>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub after_id: Option<String>,
    pub before_id: Option<String>,
}

/// `<query xmlns='urn:xmpp:mam:2' queryid=…>` with its form and `<set/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub queryid: String,
    pub filter: Filter,
    /// At most this many results (`<max/>`).
    pub max: usize,
    pub page: Page,
}

impl Query {
    pub fn to_element(&self) -> Element {
        let mut form = DataForm::submit_of(MAM_NS);
        let f = &self.filter;
        let fields = [
            ("with", f.with.as_ref().map(BareJid::to_string)),
            ("start", f.start.map(delay::stamp)),
            ("end", f.end.map(delay::stamp)),
            ("after-id", f.after_id.clone()),
            ("before-id", f.before_id.clone()),
        ];
        form.fields.extend(fields.into_iter().filter_map(|(var, v)| Some(Field::new(var, vec![v?]))));
        let mut set =
            Element::new(RSM_NS, "set").with_child(Element::new(RSM_NS, "max").with_text(self.max.to_string()));
        match &self.page {
            Page::First => {}
            Page::After(id) => set.push_child(Element::new(RSM_NS, "after").with_text(id)),
            Page::Before(id) => set.push_child(Element::new(RSM_NS, "before").with_text(id)),
            Page::Last => set.push_child(Element::new(RSM_NS, "before")),
        }
        Element::new(MAM_NS, "query")
            .with_attr("queryid", self.queryid.as_str())
            .with_child(form.to_element())
            .with_child(set)
    }

    /// Reads a query (what an archive does; used by the scripted servers of the tests). `None` when it is not
    /// a MAM query, a time is unreadable or `<max/>` is not a number.
    pub fn parse(el: &Element) -> Option<Query> {
        if !el.is(MAM_NS, "query") {
            return None;
        }
        let mut filter = Filter::default();
        if let Some(form) = DataForm::find_in(el) {
            let time = |var| form.value(var).map(delay::parse);
            filter = Filter {
                with: form.value("with").map(BareJid::parse).transpose().ok()?,
                start: time("start").map(|t| t.ok_or(())).transpose().ok()?,
                end: time("end").map(|t| t.ok_or(())).transpose().ok()?,
                after_id: form.value("after-id").map(str::to_owned),
                before_id: form.value("before-id").map(str::to_owned),
            };
        }
        let set = el.get_child(RSM_NS, "set");
        let max = match set.and_then(|s| s.get_child(RSM_NS, "max")) {
            Some(m) => m.text().trim().parse().ok()?,
            None => usize::MAX,
        };
        let page =
            match (set.and_then(|s| s.get_child(RSM_NS, "after")), set.and_then(|s| s.get_child(RSM_NS, "before"))) {
                (Some(a), _) => Page::After(a.text()),
                (None, Some(b)) if b.text().is_empty() => Page::Last,
                (None, Some(b)) => Page::Before(b.text()),
                (None, None) => Page::First,
            };
        Some(Query { queryid: el.attr("queryid").unwrap_or_default().to_owned(), filter, max, page })
    }
}

/// One archived message as it arrives: `<message><result queryid id><forwarded><delay/><message/>…`.
/// Borrowed from the stanza it came in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResultRef<'a> {
    pub queryid: &'a str,
    /// The archive's id of the message (its stanza-id in that archive).
    pub id: &'a str,
    /// When the archive got it (XEP-0203 stamp), as written.
    pub stamp: Option<&'a str>,
    /// The archived `<message/>` itself, when the result carries one.
    pub message: Option<&'a Element>,
}

impl<'a> ResultRef<'a> {
    /// The `<result/>` a `<message/>` stanza carries, if any. Ids that are empty or longer than
    /// [`MAX_ID`] bytes make it unusable (`None`): they could be neither kept nor used to page on.
    pub fn of(stanza: &'a Element) -> Option<ResultRef<'a>> {
        let result = stanza.get_child(MAM_NS, "result")?;
        let id = result.attr("id").filter(|id| !id.is_empty() && id.len() <= MAX_ID)?;
        let forwarded = result.get_child(FORWARD_NS, "forwarded");
        Some(ResultRef {
            queryid: result.attr("queryid").unwrap_or_default(),
            id,
            stamp: forwarded.and_then(|f| f.get_child(DELAY_NS, "delay")).and_then(|d| d.attr("stamp")),
            message: forwarded.and_then(|f| f.get_child(CLIENT_NS, "message")),
        })
    }

    /// Whether a stanza carries a MAM `<result/>` at all (usable or not): such a stanza is never a live message.
    pub fn is_result(stanza: &Element) -> bool {
        stanza.get_child(MAM_NS, "result").is_some()
    }
}

/// The `<message/>` an archive sends for one result (the scripted servers of the tests build these).
pub fn result_stanza(to: &str, queryid: &str, id: &str, stamp: &str, message: Element) -> Element {
    let forwarded = Element::new(FORWARD_NS, "forwarded")
        .with_child(Element::new(DELAY_NS, "delay").with_attr("stamp", stamp))
        .with_child(message);
    Element::new(CLIENT_NS, "message").with_attr("to", to).with_child(
        Element::new(MAM_NS, "result").with_attr("queryid", queryid).with_attr("id", id).with_child(forwarded),
    )
}

/// The `<fin/>` ending a query (in the iq result): whether the last page was reached, and the RSM `<set/>`
/// (the archive ids of the page's first and last results, absent for an empty page, and the count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fin {
    /// No more messages match in the direction paged (`complete='true'`).
    pub complete: bool,
    pub set: ResultSet,
}

impl Fin {
    /// The `<fin/>` inside an iq result, if any. Ids longer than [`MAX_ID`] are treated as absent.
    pub fn of(iq: &Element) -> Option<Fin> {
        let fin = iq.get_child(MAM_NS, "fin")?;
        let mut set = fin.get_child(RSM_NS, "set").map(ResultSet::parse).unwrap_or_default();
        for id in [&mut set.first, &mut set.last] {
            id.take_if(|t| t.len() > MAX_ID);
        }
        Some(Fin { complete: matches!(fin.attr("complete"), Some("true" | "1")), set })
    }

    pub fn to_element(&self) -> Element {
        let mut set = Element::new(RSM_NS, "set");
        let s = &self.set;
        for (name, text) in
            [("first", s.first.clone()), ("last", s.last.clone()), ("count", s.count.map(|c| c.to_string()))]
        {
            if let Some(t) = text {
                set.push_child(Element::new(RSM_NS, name).with_text(t));
            }
        }
        let mut fin = Element::new(MAM_NS, "fin").with_child(set);
        if self.complete {
            fin.set_attr("complete", "true");
        }
        fin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    #[test]
    fn query_with_form_and_rsm_round_trips() {
        let q = Query {
            queryid: "f27".into(),
            filter: Filter {
                with: Some(BareJid::parse("juliet@capulet.lit").unwrap()),
                start: Some(1_275_868_800_000), // 2010-06-07T00:00:00Z (XEP-0313 example 6)
                end: None,
                after_id: Some("09af3-cc343-b409f".into()),
                before_id: None,
            },
            max: 10,
            page: Page::Before("28482-98726-73623".into()),
        };
        let xml = q.to_element().to_xml();
        let back = Element::parse(&xml).unwrap();
        assert_eq!(Query::parse(&back), Some(q));
        let form = DataForm::find_in(&back).unwrap();
        let vars: Vec<&str> = form.fields.iter().filter_map(|f| f.var.as_deref()).collect();
        assert_eq!(vars, ["FORM_TYPE", "with", "start", "after-id"]);
        assert_eq!(form.form_type(), Some(MAM_NS));
        assert!(xml.contains("2010-06-07T00:00:00.000Z"), "{xml}");

        let last = Query { page: Page::Last, filter: Filter::default(), ..Query::parse(&back).unwrap() };
        let set = last.to_element();
        let before = set.get_child(RSM_NS, "set").unwrap().get_child(RSM_NS, "before").unwrap();
        assert_eq!(before.text(), "", "the last page is asked for with an empty <before/>");
        assert_eq!(Query::parse(&set).unwrap().page, Page::Last);
    }

    #[test]
    fn spec_result_and_fin() {
        // XEP-0313 example 7 (a result) and example 9 (the fin), as sent.
        let m = el("<message xmlns='jabber:client' id='aeb213' to='juliet@capulet.lit/chamber'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
      <message xmlns='jabber:client' from='witch@shakespeare.lit' to='macbeth@shakespeare.lit'>
        <body>Hail to thee</body>
      </message>
    </forwarded>
  </result>
</message>");
        let r = ResultRef::of(&m).unwrap();
        assert_eq!((r.queryid, r.id, r.stamp), ("f27", "28482-98726-73623", Some("2010-07-10T23:08:25Z")));
        assert_eq!(r.message.unwrap().attr("from"), Some("witch@shakespeare.lit"));
        assert!(ResultRef::is_result(&m));

        let iq = el("<iq xmlns='jabber:client' type='result' id='juliet1'>
  <fin xmlns='urn:xmpp:mam:2' complete='true'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>28482-98726-73623</first>
      <last>09af3-cc343-b409f</last>
      <count>20</count>
    </set>
  </fin>
</iq>");
        let fin = Fin::of(&iq).unwrap();
        let set = ResultSet {
            first: Some("28482-98726-73623".into()),
            last: Some("09af3-cc343-b409f".into()),
            count: Some(20),
        };
        assert_eq!(fin, Fin { complete: true, set });
        let back = el(&format!("<iq xmlns='jabber:client'>{}</iq>", fin.to_element().to_xml()));
        assert_eq!(Fin::of(&back), Some(fin));
        // Prosody leaves `complete` out of an incomplete page.
        let partial = el(
            "<iq xmlns='jabber:client'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><first>a</first><last>b</last></set></fin></iq>",
        );
        assert!(!Fin::of(&partial).unwrap().complete);
    }

    #[test]
    fn results_built_here_read_back_and_bad_ids_are_unusable() {
        let inner = el(
            "<message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com'><body>hi</body></message>",
        );
        let m = result_stanza("alice@example.com/web", "q1", "id-1", "2024-01-02T03:04:05Z", inner);
        let m = el(&m.to_xml());
        let r = ResultRef::of(&m).unwrap();
        assert_eq!((r.queryid, r.id, r.stamp), ("q1", "id-1", Some("2024-01-02T03:04:05Z")));
        let long = m.to_xml().replace("id-1", &"x".repeat(MAX_ID + 1));
        let long = el(&long);
        assert!(ResultRef::of(&long).is_none() && ResultRef::is_result(&long));
        let empty = el(&m.to_xml().replace("id='id-1'", "id=''"));
        assert!(ResultRef::of(&empty).is_none());
    }
}
