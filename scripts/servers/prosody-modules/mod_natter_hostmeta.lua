-- mod_natter_hostmeta: XEP-0156 connection discovery over HTTP for Natter's local Prosody.
--
-- Serves /.well-known/host-meta (XRD XML) and /.well-known/host-meta.json (JRD JSON) pointing at the
-- WebSocket endpoint given by the `natter_websocket_url` option, with `Access-Control-Allow-Origin: *`
-- so a browser page on any origin can read them. (Debian does not package mod_http_altconnect.)
-- Loaded per VirtualHost; with `http_default_host` it also answers for Host: 127.0.0.1.

module:depends("http");

local json = require "util.json";
local st = require "util.stanza";

local ws_url = module:get_option_string("natter_websocket_url", "ws://127.0.0.1:5280/xmpp-websocket");
local ws_rel = "urn:xmpp:alt-connections:websocket";

local xrd = st.stanza("XRD", { xmlns = "http://docs.oasis-open.org/ns/xri/xrd-1.0" })
	:tag("Link", { rel = ws_rel, href = ws_url }):up();
local xrd_text = "<?xml version='1.0' encoding='utf-8'?>\n" .. tostring(xrd);
local jrd_text = json.encode({ links = { { rel = ws_rel, href = ws_url } } });

local function serve(content_type, body)
	return function (event)
		local headers = event.response.headers;
		headers.content_type = content_type;
		headers.access_control_allow_origin = "*"; -- overrides mod_http's echoed Origin
		headers.cache_control = "no-cache";
		return body;
	end
end

module:provides("http", {
	name = "natter_hostmeta";
	default_path = "/.well-known";
	route = {
		["GET /host-meta"] = serve("application/xrd+xml", xrd_text);
		["GET /host-meta.json"] = serve("application/json", jrd_text);
	};
});

module:log("info", "XEP-0156 host-meta points at %s", ws_url);
