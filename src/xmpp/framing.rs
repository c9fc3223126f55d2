//! RFC 7395 framing: one WebSocket text message in, exactly one typed frame out (and back). (in progress)
