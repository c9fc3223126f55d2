//! JIDs (RFC 7622): bare and full addresses, parsed and compared. (in progress)
