//! Service discovery (XEP-0030) and result set paging (XEP-0059): the queries we send and the answers parsed.
//!
//! `disco#info` tells what an entity is (identities) and offers (features, and XEP-0128 forms such as a
//! room's `muc#roominfo`); `disco#items` lists what it holds (a server's services, a MUC service's rooms),
//! a page at a time with RSM. Everything here comes from servers and peers, so it is bounded:
//! [`MAX_IDENTITIES`], [`MAX_FEATURES`], [`MAX_FORMS`], [`MAX_ITEMS`]; the rest is dropped.
//!
//! What this module does NOT do: answer disco#info requests addressed to us (the session does, with
//! [`super::caps`]), or decide what a feature means.

use crate::xmpp::jid::Jid;
use crate::xmpp::stanza::dataform::DataForm;
use crate::xmpp::xml::Element;

pub const DISCO_INFO_NS: &str = "http://jabber.org/protocol/disco#info";
pub const DISCO_ITEMS_NS: &str = "http://jabber.org/protocol/disco#items";
pub const RSM_NS: &str = "http://jabber.org/protocol/rsm";

pub const MAX_IDENTITIES: usize = 64;
pub const MAX_FEATURES: usize = 512;
pub const MAX_FORMS: usize = 8;
/// Items kept from one disco#items answer (one page).
pub const MAX_ITEMS: usize = 500;
/// Longest feature name kept.
const MAX_FEATURE_LEN: usize = 512;

/// What an entity is (`<identity category type name/>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub category: String,
    pub kind: String,
    pub name: Option<String>,
    pub lang: Option<String>,
}

impl Identity {
    pub fn new(category: &str, kind: &str, name: Option<&str>) -> Identity {
        Identity { category: category.to_owned(), kind: kind.to_owned(), name: name.map(str::to_owned), lang: None }
    }

    pub fn to_element(&self) -> Element {
        let mut el =
            Element::new(DISCO_INFO_NS, "identity").with_attr("category", &self.category).with_attr("type", &self.kind);
        if let Some(n) = &self.name {
            el.set_attr("name", n);
        }
        if let Some(l) = &self.lang {
            el.set_attr("xml:lang", l);
        }
        el
    }
}

/// A disco#info answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoInfo {
    pub identities: Vec<Identity>,
    pub features: Vec<String>,
    /// XEP-0128 extensions (`result` forms).
    pub forms: Vec<DataForm>,
}

impl DiscoInfo {
    /// Parses the `<query xmlns='…disco#info'>` of an iq result.
    pub fn parse(query: &Element) -> DiscoInfo {
        DiscoInfo {
            identities: query
                .children_named(DISCO_INFO_NS, "identity")
                .take(MAX_IDENTITIES)
                .filter_map(|i| {
                    Some(Identity {
                        category: i.attr("category")?.to_owned(),
                        kind: i.attr("type")?.to_owned(),
                        name: i.attr("name").map(str::to_owned),
                        lang: i.attr("xml:lang").map(str::to_owned),
                    })
                })
                .collect(),
            features: query
                .children_named(DISCO_INFO_NS, "feature")
                .filter_map(|f| f.attr("var").filter(|v| v.len() <= MAX_FEATURE_LEN))
                .take(MAX_FEATURES)
                .map(str::to_owned)
                .collect(),
            forms: query.elements().filter_map(DataForm::parse).take(MAX_FORMS).collect(),
        }
    }

    /// The disco#info result in an iq, if it holds one.
    pub fn of_iq(iq: &Element) -> Option<DiscoInfo> {
        iq.get_child(DISCO_INFO_NS, "query").map(DiscoInfo::parse)
    }

    pub fn has_feature(&self, var: &str) -> bool {
        self.features.iter().any(|f| f == var)
    }

    pub fn has_identity(&self, category: &str, kind: &str) -> bool {
        self.identities.iter().any(|i| i.category == category && i.kind == kind)
    }

    /// The extension form whose FORM_TYPE is `form_type`.
    pub fn form(&self, form_type: &str) -> Option<&DataForm> {
        self.forms.iter().find(|f| f.form_type() == Some(form_type))
    }
}

/// One entry of a disco#items answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoItem {
    pub jid: Jid,
    pub name: Option<String>,
    pub node: Option<String>,
}

/// Where a page lies in the whole result set (XEP-0059 `<set/>` in an answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub first: Option<String>,
    pub last: Option<String>,
    /// How many items the whole set has, when the server says.
    pub count: Option<u32>,
}

impl ResultSet {
    pub fn parse(set: &Element) -> ResultSet {
        let text = |name| set.get_child(RSM_NS, name).map(Element::text).filter(|t| !t.is_empty() && t.len() <= 1024);
        ResultSet {
            first: text("first"),
            last: text("last"),
            count: set.get_child(RSM_NS, "count").and_then(|c| c.text().trim().parse().ok()),
        }
    }

    /// `<set><max/><after/></set>` asking for a page of at most `max` items after `after`.
    pub fn request(max: usize, after: Option<&str>) -> Element {
        let mut set = Element::new(RSM_NS, "set").with_child(Element::new(RSM_NS, "max").with_text(max.to_string()));
        if let Some(a) = after {
            set.push_child(Element::new(RSM_NS, "after").with_text(a));
        }
        set
    }
}

/// A disco#items answer (one page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoItems {
    pub items: Vec<DiscoItem>,
    pub set: Option<ResultSet>,
}

impl DiscoItems {
    /// Parses the `<query xmlns='…disco#items'>` of an iq result; items with an invalid JID are dropped.
    pub fn parse(query: &Element) -> DiscoItems {
        DiscoItems {
            items: query
                .children_named(DISCO_ITEMS_NS, "item")
                .filter_map(|i| {
                    Some(DiscoItem {
                        jid: Jid::parse(i.attr("jid")?).ok()?,
                        name: i.attr("name").map(str::to_owned),
                        node: i.attr("node").map(str::to_owned),
                    })
                })
                .take(MAX_ITEMS)
                .collect(),
            set: query.get_child(RSM_NS, "set").map(ResultSet::parse),
        }
    }

    pub fn of_iq(iq: &Element) -> Option<DiscoItems> {
        iq.get_child(DISCO_ITEMS_NS, "query").map(DiscoItems::parse)
    }
}

/// `<query xmlns='…disco#info'/>`, optionally for a node.
pub fn info_query(node: Option<&str>) -> Element {
    let mut q = Element::new(DISCO_INFO_NS, "query");
    if let Some(n) = node {
        q.set_attr("node", n);
    }
    q
}

/// `<query xmlns='…disco#items'/>`, with an RSM request when `page` is given (`(max, after)`).
pub fn items_query(page: Option<(usize, Option<&str>)>) -> Element {
    let mut q = Element::new(DISCO_ITEMS_NS, "query");
    if let Some((max, after)) = page {
        q.push_child(ResultSet::request(max, after));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_room_info_with_its_roominfo_form() {
        // XEP-0045 example 10 (extended room information), shortened.
        let iq = Element::parse("<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='ik3vs715' to='hag66@shakespeare.lit/pda' type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' name='A Dark Cave' type='text'/><feature var='http://jabber.org/protocol/muc'/><feature var='muc_passwordprotected'/><feature var='muc_hidden'/><feature var='muc_temporary'/><feature var='muc_open'/><feature var='muc_unmoderated'/><feature var='muc_nonanonymous'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field><field var='muc#roominfo_description' label='Description'><value>The place for all good witches!</value></field><field var='muc#roominfo_occupants' label='Number of occupants'><value>3</value></field></x></query></iq>").unwrap();
        let info = DiscoInfo::of_iq(&iq).unwrap();
        assert!(info.has_identity("conference", "text"));
        assert_eq!(info.identities[0].name.as_deref(), Some("A Dark Cave"));
        assert!(info.has_feature("muc_passwordprotected") && !info.has_feature("muc_membersonly"));
        let form = info.form("http://jabber.org/protocol/muc#roominfo").unwrap();
        assert_eq!(form.value("muc#roominfo_occupants"), Some("3"));
    }

    #[test]
    fn parses_items_with_a_result_set() {
        // XEP-0045 example 1-style items, with XEP-0059 paging.
        let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='r'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='heath@chat.shakespeare.lit' name='A Lonely Heath'/><item jid='not a jid@@' name='x'/><item jid='forres@chat.shakespeare.lit' name='Macbeth&apos;s Castle'/><set xmlns='http://jabber.org/protocol/rsm'><first index='0'>heath@chat.shakespeare.lit</first><last>forres@chat.shakespeare.lit</last><count>37</count></set></query></iq>").unwrap();
        let items = DiscoItems::of_iq(&iq).unwrap();
        assert_eq!(items.items.len(), 2, "the invalid JID is dropped");
        assert_eq!(items.items[1].name.as_deref(), Some("Macbeth's Castle"));
        let set = items.set.unwrap();
        assert_eq!((set.last.as_deref(), set.count), (Some("forres@chat.shakespeare.lit"), Some(37)));
        let q = items_query(Some((50, Some("forres@chat.shakespeare.lit"))));
        let set = q.get_child(RSM_NS, "set").unwrap();
        assert_eq!(set.get_child(RSM_NS, "max").unwrap().text(), "50");
        assert_eq!(set.get_child(RSM_NS, "after").unwrap().text(), "forres@chat.shakespeare.lit");
    }

    #[test]
    fn a_flood_of_items_is_cut() {
        let items = "<item jid='r@muc.example'/>".repeat(MAX_ITEMS + 100);
        let q = Element::parse(&format!("<query xmlns='{DISCO_ITEMS_NS}'>{items}</query>")).unwrap();
        assert_eq!(DiscoItems::parse(&q).items.len(), MAX_ITEMS);
    }
}
