// Package domain is the core of the patent open-licensing ledger: the value
// types (patent numbers, IPC and Locarno codes, credit and region codes,
// money in fen, business dates), the events, the aggregates that decide
// them (organisations and patents, with their declarations, licences,
// recordals, royalties, transfers, pledges and reviews), the legal rules of
// Patent Law arts. 50–52 with their rule codes, the typed errors, the
// event-store port and the command service (load, decide, append, retry on
// a version conflict). It imports the standard library only.
package domain
