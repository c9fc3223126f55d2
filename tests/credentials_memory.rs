#![cfg(not(target_arch = "wasm32"))]
//! The password and the SCRAM keys in memory: the core drops the password as soon as the keys exist, and no
//! heap copy of the password or of the keys is ever freed without being wiped (a test allocator watches every
//! block freed). What is kept where is described in `src/xmpp/client/mod.rs` and `src/transport/mod.rs`.

mod support {
    pub mod fake;
    pub mod secret_alloc;
}

use hmac::{Hmac, Mac};
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::{Credentials, Mechanism};
use natter::xmpp::{Config, Event};
use sha2::Sha256;
use support::fake::*;
use support::secret_alloc::{SecretAlloc, live, unwiped, watch};

#[global_allocator]
static ALLOC: SecretAlloc = SecretAlloc;

/// RFC 7677's exchange (password "pencil", SCRAM-SHA-256); the keys computed independently of the core.
const PASSWORD: &str = "pencil";

fn rfc7677_keys() -> ([u8; 32], [u8; 32], [u8; 32]) {
    use base64::Engine as _;
    let salt = base64::engine::general_purpose::STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(PASSWORD.as_bytes(), &salt, 4096, &mut salted);
    let hmac = |data: &[u8]| -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&salted).unwrap();
        m.update(data);
        m.finalize().into_bytes().into()
    };
    (salted, hmac(b"Client Key"), hmac(b"Server Key"))
}

fn online_with_scram(h: &mut Harness) {
    h.server_open();
    h.sasl_features(&["SCRAM-SHA-256"]);
    h.scram_challenge();
    h.scram_success();
}

fn finish_login(h: &mut Harness, jid: &str) {
    h.server_open();
    h.bind_features("");
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{jid}/r</jid></bind></iq>"
    ));
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    assert!(h.client.is_online(), "{:?}", h.events);
}

/// One test, so nothing else allocates while the allocator watches.
#[test]
fn the_password_and_keys_are_dropped_and_wiped() {
    let (salted, client_key, server_key) = rfc7677_keys();
    let needles: [&[u8]; 4] = [PASSWORD.as_bytes(), &salted, &client_key, &server_key];
    const NAMES: [&str; 4] = ["password", "salted password", "client key", "server key"];

    // SCRAM, as the browser transport drives it: its own config, a copy per socket, its password dropped once
    // online.
    watch(&needles);
    let mut transport_config = natter::transport::session_config(natter::transport::ConnectOptions::with_password(
        BareJid::parse("user@example.com").unwrap(),
        PASSWORD.into(),
        None,
    ));
    transport_config.mechanisms = vec![Mechanism::ScramSha256];
    let mut socket_config = transport_config.clone();
    socket_config.client_nonce = "rOprNGfwEbeRWgbNEkqO".into();
    socket_config.id_seed = "t".into();
    let mut h = Harness::new(socket_config);
    online_with_scram(&mut h);
    transport_config.credentials = Credentials::Password(String::new()); // what web.rs does once online
    assert_eq!(live()[0], 0, "once the keys exist, nothing holds the password");
    finish_login(&mut h, "user@example.com");
    let resumed: Config = h.client.resumption().expect("keys to log in again");
    assert_eq!(live()[0], 0, "nor does the config to log in again");
    assert!(live()[2] > 0, "the keys are kept (for logging in again)");
    drop(resumed);
    drop(h);
    drop(transport_config);
    let (freed, held) = (unwiped(), live());
    watch(&[]);
    for (i, name) in NAMES.iter().enumerate() {
        assert_eq!(freed[i], 0, "SCRAM: heap blocks freed with the {name} in them");
        assert_eq!(held[i], 0, "SCRAM: heap blocks still holding the {name} after everything was dropped");
    }

    // PLAIN (a server offering nothing better, and a caller allowing it).
    let password = "pl41n-n33dle-password";
    watch(&[password.as_bytes()]);
    let jid = BareJid::parse("alice@example.com").unwrap();
    let mut config =
        Config::new(jid, Credentials::Password(password.into()), "abcdefghijklmnopqrstuvwx".into(), "t".into());
    config.allow_plain = true;
    let mut h = Harness::new(config);
    h.server_open();
    h.sasl_features(&["PLAIN"]);
    h.recv("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert_eq!(live()[0], 0, "after a PLAIN login, nothing holds the password");
    finish_login(&mut h, "alice@example.com");
    assert!(h.client.resumption().is_none(), "PLAIN leaves nothing to log in again with");
    assert!(!h.events.iter().any(|e| matches!(e, Event::Closed { .. })));
    drop(h);
    let freed = unwiped();
    watch(&[]);
    assert_eq!(freed[0], 0, "PLAIN: heap blocks freed with the password in them");
}
