// Package mail owns outgoing e-mail and the text of notifications.
//
// Config, usually parsed by ParseURL from CUSTOS_SMTP_URL, names the SMTP
// server; NewSMTP returns a Sender that hands it one Message per connection,
// always over TLS except towards a loopback host, and whose errors say
// through IsPermanent whether trying again can help. Messages are plain
// text, built as RFC 5322 with a Date from an injected clock.
//
// Render fills in the catalogue of notifications, in zh-CN and en, that
// e-mails and in-app notices share; Kinds lists them and RequiredKeys says
// which data each one needs.
package mail
