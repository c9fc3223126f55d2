//! Data forms (XEP-0004): `<x xmlns='jabber:x:data'>` parsed into a [`DataForm`] and written back.
//!
//! Used for a room's configuration (XEP-0045 §10: the owner fetches a form, fills it, submits it), the
//! extended information of a room's disco#info (`muc#roominfo`), and the publish options of a bookmark
//! (XEP-0402). A form comes from a server or a peer, so it is bounded: at most [`MAX_FIELDS`] fields, each
//! with at most [`MAX_VALUES`] values and [`MAX_OPTIONS`] options; the rest is dropped.
//!
//! What this module does NOT do: render a form, or know what a field means (callers look fields up by their
//! `var`, e.g. [`crate::xmpp::stanza::muc::RoomSettings`] for the room configuration).

use crate::xmpp::xml::Element;

pub const DATA_NS: &str = "jabber:x:data";

/// Fields kept from one form.
pub const MAX_FIELDS: usize = 256;
/// Values kept per field.
pub const MAX_VALUES: usize = 256;
/// Options kept per list field.
pub const MAX_OPTIONS: usize = 512;

/// What a form is for (its `type` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormType {
    /// To be filled in.
    Form,
    /// Filled in, sent back.
    Submit,
    Cancel,
    /// Data, not a question (e.g. disco#info extensions).
    Result,
}

impl FormType {
    fn parse(s: Option<&str>) -> Option<FormType> {
        Some(match s? {
            "form" => FormType::Form,
            "submit" => FormType::Submit,
            "cancel" => FormType::Cancel,
            "result" => FormType::Result,
            _ => return None,
        })
    }

    fn wire(self) -> &'static str {
        match self {
            FormType::Form => "form",
            FormType::Submit => "submit",
            FormType::Cancel => "cancel",
            FormType::Result => "result",
        }
    }
}

/// A field's type (XEP-0004 §3.3); absent or unknown reads as `text-single`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Boolean,
    Fixed,
    Hidden,
    JidMulti,
    JidSingle,
    ListMulti,
    ListSingle,
    TextMulti,
    TextPrivate,
    TextSingle,
}

impl FieldType {
    const ALL: [(FieldType, &'static str); 10] = [
        (FieldType::Boolean, "boolean"),
        (FieldType::Fixed, "fixed"),
        (FieldType::Hidden, "hidden"),
        (FieldType::JidMulti, "jid-multi"),
        (FieldType::JidSingle, "jid-single"),
        (FieldType::ListMulti, "list-multi"),
        (FieldType::ListSingle, "list-single"),
        (FieldType::TextMulti, "text-multi"),
        (FieldType::TextPrivate, "text-private"),
        (FieldType::TextSingle, "text-single"),
    ];

    fn parse(s: Option<&str>) -> FieldType {
        s.and_then(|s| Self::ALL.iter().find(|(_, w)| *w == s)).map_or(FieldType::TextSingle, |(t, _)| *t)
    }

    fn wire(self) -> &'static str {
        Self::ALL.iter().find(|(t, _)| *t == self).map_or("text-single", |(_, w)| w)
    }
}

/// One choice of a list field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOption {
    pub label: Option<String>,
    pub value: String,
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name; only `fixed` fields may lack one.
    pub var: Option<String>,
    pub kind: FieldType,
    pub label: Option<String>,
    pub desc: Option<String>,
    pub required: bool,
    pub values: Vec<String>,
    pub options: Vec<FieldOption>,
}

impl Field {
    /// A field with a name and values (type left `text-single` unless set).
    pub fn new(var: &str, values: Vec<String>) -> Field {
        Field {
            var: Some(var.to_owned()),
            kind: FieldType::TextSingle,
            label: None,
            desc: None,
            required: false,
            values,
            options: Vec::new(),
        }
    }

    /// The first value.
    pub fn value(&self) -> Option<&str> {
        self.values.first().map(String::as_str)
    }

    /// A boolean field's value (`1`/`true`, `0`/`false`).
    pub fn as_bool(&self) -> Option<bool> {
        match self.value()?.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }
}

/// A data form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataForm {
    pub kind: FormType,
    pub title: Option<String>,
    pub instructions: Vec<String>,
    pub fields: Vec<Field>,
}

impl DataForm {
    /// An empty form of `kind` (an empty `submit` creates an instant room, XEP-0045 §10.1.2).
    pub fn new(kind: FormType) -> DataForm {
        DataForm { kind, title: None, instructions: Vec::new(), fields: Vec::new() }
    }

    /// A `submit` form with the hidden `FORM_TYPE` field set to `form_type`.
    pub fn submit_of(form_type: &str) -> DataForm {
        let mut f = DataForm::new(FormType::Submit);
        let mut t = Field::new("FORM_TYPE", vec![form_type.to_owned()]);
        t.kind = FieldType::Hidden;
        f.fields.push(t);
        f
    }

    /// Parses `<x xmlns='jabber:x:data'>`; `None` when it is not one or has no valid `type`. Beyond the
    /// bounds (see the module docs) fields, values and options are dropped.
    pub fn parse(el: &Element) -> Option<DataForm> {
        if !el.is(DATA_NS, "x") {
            return None;
        }
        let kind = FormType::parse(el.attr("type"))?;
        let mut form = DataForm {
            kind,
            title: el.get_child(DATA_NS, "title").map(Element::text),
            instructions: el.children_named(DATA_NS, "instructions").take(MAX_VALUES).map(Element::text).collect(),
            fields: Vec::new(),
        };
        for f in el.children_named(DATA_NS, "field").take(MAX_FIELDS) {
            form.fields.push(Field {
                var: f.attr("var").map(str::to_owned),
                kind: FieldType::parse(f.attr("type")),
                label: f.attr("label").map(str::to_owned),
                desc: f.get_child(DATA_NS, "desc").map(Element::text),
                required: f.get_child(DATA_NS, "required").is_some(),
                values: f.children_named(DATA_NS, "value").take(MAX_VALUES).map(Element::text).collect(),
                options: f
                    .children_named(DATA_NS, "option")
                    .take(MAX_OPTIONS)
                    .filter_map(|o| {
                        let value = o.get_child(DATA_NS, "value")?.text();
                        Some(FieldOption { label: o.attr("label").map(str::to_owned), value })
                    })
                    .collect(),
            });
        }
        Some(form)
    }

    /// The first form among `el`'s children.
    pub fn find_in(el: &Element) -> Option<DataForm> {
        el.children_named(DATA_NS, "x").find_map(DataForm::parse)
    }

    pub fn to_element(&self) -> Element {
        let mut x = Element::new(DATA_NS, "x").with_attr("type", self.kind.wire());
        if let Some(t) = &self.title {
            x.push_child(Element::new(DATA_NS, "title").with_text(t));
        }
        for i in &self.instructions {
            x.push_child(Element::new(DATA_NS, "instructions").with_text(i));
        }
        for f in &self.fields {
            let mut el = Element::new(DATA_NS, "field");
            if let Some(v) = &f.var {
                el.set_attr("var", v);
            }
            // In a submitted form only `var` and the values matter (XEP-0004 §3.2), except FORM_TYPE's type.
            if self.kind != FormType::Submit || f.kind == FieldType::Hidden {
                el.set_attr("type", f.kind.wire());
            }
            if self.kind != FormType::Submit {
                if let Some(l) = &f.label {
                    el.set_attr("label", l);
                }
                if let Some(d) = &f.desc {
                    el.push_child(Element::new(DATA_NS, "desc").with_text(d));
                }
                if f.required {
                    el.push_child(Element::new(DATA_NS, "required"));
                }
                for o in &f.options {
                    let mut opt = Element::new(DATA_NS, "option")
                        .with_child(Element::new(DATA_NS, "value").with_text(o.value.as_str()));
                    if let Some(l) = &o.label {
                        opt.set_attr("label", l);
                    }
                    el.push_child(opt);
                }
            }
            for v in &f.values {
                el.push_child(Element::new(DATA_NS, "value").with_text(v.as_str()));
            }
            x.push_child(el);
        }
        x
    }

    /// The value of the hidden `FORM_TYPE` field (XEP-0068), which names what the form is.
    pub fn form_type(&self) -> Option<&str> {
        self.field("FORM_TYPE").and_then(Field::value)
    }

    pub fn field(&self, var: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.var.as_deref() == Some(var))
    }

    /// The first value of field `var`.
    pub fn value(&self, var: &str) -> Option<&str> {
        self.field(var).and_then(Field::value)
    }

    /// Sets field `var`'s values; returns whether the form has such a field.
    pub fn set(&mut self, var: &str, values: Vec<String>) -> bool {
        match self.fields.iter_mut().find(|f| f.var.as_deref() == Some(var)) {
            Some(f) => {
                f.values = values;
                true
            }
            None => false,
        }
    }

    /// Sets a boolean field (`1`/`0`); returns whether the form has it.
    pub fn set_bool(&mut self, var: &str, value: bool) -> bool {
        self.set(var, vec![if value { "1" } else { "0" }.to_owned()])
    }

    /// This form answered: a `submit` form with every named field and its values (fixed fields dropped).
    pub fn to_submit(&self) -> DataForm {
        let fields = self
            .fields
            .iter()
            .filter(|f| f.var.is_some() && f.kind != FieldType::Fixed)
            .map(|f| Field {
                var: f.var.clone(),
                kind: f.kind,
                label: None,
                desc: None,
                required: false,
                values: f.values.clone(),
                options: Vec::new(),
            })
            .collect();
        DataForm { kind: FormType::Submit, title: None, instructions: Vec::new(), fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // XEP-0045 example 165 (the room configuration form), shortened.
    const CONFIG_FORM: &str = "<x xmlns='jabber:x:data' type='form'><title>Configuration for \"coven\" Room</title><instructions>Complete this form to modify the configuration of your room.</instructions><field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field label='Natural-Language Room Name' type='text-single' var='muc#roomconfig_roomname'><value>A Dark Cave</value></field><field label='Short Description of Room' type='text-single' var='muc#roomconfig_roomdesc'><value>The place for all good witches!</value></field><field label='Make Room Persistent?' type='boolean' var='muc#roomconfig_persistentroom'><value>0</value></field><field label='Roles for which Presence is Broadcasted' type='list-multi' var='muc#roomconfig_presencebroadcast'><value>moderator</value><value>participant</value><value>visitor</value><option label='Moderator'><value>moderator</value></option><option label='Participant'><value>participant</value></option><option label='Visitor'><value>visitor</value></option></field><field type='fixed'><value>You may specify additional people who have admin status in the room.</value></field><field label='Room Admins' type='jid-multi' var='muc#roomconfig_roomadmins'><value>wiccarocks@shakespeare.lit</value><value>hecate@shakespeare.lit</value></field><field label='Password' type='text-private' var='muc#roomconfig_roomsecret'><required/></field></x>";

    #[test]
    fn parses_the_spec_configuration_form() {
        let form = DataForm::parse(&Element::parse(CONFIG_FORM).unwrap()).unwrap();
        assert_eq!(form.kind, FormType::Form);
        assert_eq!(form.form_type(), Some("http://jabber.org/protocol/muc#roomconfig"));
        assert_eq!(form.value("muc#roomconfig_roomname"), Some("A Dark Cave"));
        let persistent = form.field("muc#roomconfig_persistentroom").unwrap();
        assert_eq!((persistent.kind, persistent.as_bool()), (FieldType::Boolean, Some(false)));
        let broadcast = form.field("muc#roomconfig_presencebroadcast").unwrap();
        assert_eq!((broadcast.values.len(), broadcast.options.len()), (3, 3));
        assert_eq!(broadcast.options[0].label.as_deref(), Some("Moderator"));
        assert!(form.field("muc#roomconfig_roomsecret").unwrap().required);
        assert_eq!(form.fields.iter().filter(|f| f.kind == FieldType::Fixed).count(), 1);
    }

    #[test]
    fn round_trips_and_submits_only_names_and_values() {
        let el = Element::parse(CONFIG_FORM).unwrap();
        let form = DataForm::parse(&el).unwrap();
        assert_eq!(DataForm::parse(&Element::parse(&form.to_element().to_xml()).unwrap()).as_ref(), Some(&form));
        let mut submit = form.to_submit();
        assert!(submit.set_bool("muc#roomconfig_persistentroom", true));
        assert!(!submit.set("no-such-field", vec![]));
        let xml = submit.to_element().to_xml();
        assert!(!xml.contains("label=") && !xml.contains("<option") && !xml.contains("fixed"), "{xml}");
        let back = DataForm::parse(&Element::parse(&xml).unwrap()).unwrap();
        assert_eq!(back.kind, FormType::Submit);
        assert_eq!(back.field("muc#roomconfig_persistentroom").and_then(Field::as_bool), Some(true));
        assert_eq!(back.form_type(), Some("http://jabber.org/protocol/muc#roomconfig"));
        assert_eq!(back.field("FORM_TYPE").unwrap().kind, FieldType::Hidden, "FORM_TYPE keeps its type");
        assert_eq!(back.field("muc#roomconfig_roomadmins").unwrap().values.len(), 2);
    }

    #[test]
    fn a_hostile_form_is_bounded() {
        // Values long enough that the frame passes the parser's own element density limit (xml.rs); the form's
        // caps are what is tested here.
        let field = format!("<field var='f'><value>{}</value></field>", "v".repeat(40)).repeat(MAX_FIELDS + 10);
        let values = format!("<value>{}</value>", "v".repeat(40)).repeat(MAX_VALUES + 10);
        let xml = format!("<x xmlns='jabber:x:data' type='form'>{field}<field var='many'>{values}</field></x>");
        let form = DataForm::parse(&Element::parse(&xml).unwrap()).unwrap();
        assert_eq!(form.fields.len(), MAX_FIELDS);
        let xml = format!("<x xmlns='jabber:x:data' type='form'><field var='many'>{values}</field></x>");
        let form = DataForm::parse(&Element::parse(&xml).unwrap()).unwrap();
        assert_eq!(form.fields[0].values.len(), MAX_VALUES);
        assert!(DataForm::parse(&Element::parse("<x xmlns='jabber:x:data' type='bogus'/>").unwrap()).is_none());
        assert!(DataForm::parse(&Element::parse("<x xmlns='urn:other' type='form'/>").unwrap()).is_none());
    }
}
