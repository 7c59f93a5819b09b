/* rules_syms.c - the symbols of the message rules (rules.h) with their
 * default weights. The scale: the verdict junks at about 5, quarantines
 * at 9 to 12 and rejects at 15 to 20; the classifier adds up to about 8.
 * A rule that a legitimate message can trip on its own stays well under
 * 5; what only abuse does (an executable mailed in, a password form, a
 * colleague's name on an outside address) may reach it alone. */
#include "filter/sym_table.h"

const struct filter_sym_def filter_syms_rules[] = {
	/* authentication (facts) */
	{ "SPF_FAIL", 1.5, "SPF says the client may not send for the "
	  "envelope domain" },
	{ "SPF_SOFTFAIL", 0.6, "SPF softfail for the envelope domain" },
	{ "SPF_NONE", 0.2, "the envelope domain publishes no SPF record" },
	{ "SPF_PERMERROR", 0.3, "the envelope domain's SPF record is broken" },
	{ "SPF_PASS", -0.2, "SPF pass for the envelope domain" },
	{ "DKIM_FAIL", 1.0, "a DKIM signature does not verify (permerror "
	  "counts half)" },
	{ "DKIM_NONE", 0.1, "the message has no DKIM signature" },
	{ "DKIM_PASS", -0.2, "a DKIM signature verifies" },
	{ "DMARC_REJECT", 3.5, "DMARC fails and the From domain asks for "
	  "rejection" },
	{ "DMARC_QUARANTINE", 2.0, "DMARC fails and the From domain asks for "
	  "quarantine" },
	{ "DMARC_FAIL", 0.5, "DMARC fails; the From domain's policy is none" },
	{ "DMARC_PASS", -0.5, "DMARC passes for the From domain" },
	/* header anomalies */
	{ "DATE_MISSING", 1.0, "no Date field" },
	{ "DATE_INVALID", 1.5, "a Date field that is not a date" },
	{ "DATE_FUTURE", 2.0, "Date more than a day after the message was "
	  "received" },
	{ "DATE_PAST", 0.5, "Date more than 30 days before the newest "
	  "Received field" },
	{ "DATE_ZONE_BAD", 2.5, "a Date whose time zone does not exist "
	  "(-1900): a sender that computes it wrongly" },
	{ "MSGID_MISSING", 1.0, "no Message-ID field" },
	{ "MSGID_INVALID", 1.0, "a Message-ID that is not <left@right>" },
	{ "MUA_FORGED", 2.0, "X-Mailer names an Outlook that always wrote "
	  "X-MimeOLE and sent HTML with a plain text copy, and the message "
	  "has no X-MimeOLE or is HTML alone (a bulk mailer's copied line)" },
	{ "MIME_QP_LONG", 1.0, "a quoted-printable line longer than 76 "
	  "characters (MIME written by hand, as mass mailers do)" },
	{ "FROM_MISSING", 2.0, "no From address" },
	{ "TO_MISSING", 0.3, "neither To nor Cc (not a list)" },
	{ "SUBJECT_MISSING", 0.5, "no Subject field" },
	{ "SUBJECT_CAPS", 0.8, "the Subject is written in capitals" },
	{ "SUBJECT_ADV", 1.5, "the Subject opens with ADV:, the label of "
	  "an unsolicited advertisement" },
	{ "SUBJECT_PADDED", 1.5, "the Subject hides text behind a run of "
	  "blanks (a mass mailer's per-copy tag)" },
	{ "FROM_NAME_ADDR", 2.0, "the From display name shows an address "
	  "in another domain than the real one" },
	{ "REPLYTO_FREEMAIL", 2.0, "replies go to a free mail address while "
	  "From is elsewhere" },
	{ "REPLYTO_DIFF", 0.1, "replies go to another domain than From "
	  "(not a list)" },
	{ "RETURNPATH_DIFF", 0.3, "the envelope sender's domain is not "
	  "From's (not a list)" },
	{ "HELO_OURS", 3.0, "an outside client greets with this server's "
	  "name" },
	{ "HELO_IP_MISMATCH", 1.5, "the client greets with an address "
	  "literal that is not its address" },
	{ "RCVD_FORGED_OURS", 3.0, "a Received field from outside claims "
	  "this server received the message" },
	{ "RCVD_BAD_IP", 1.0, "a Received field holds an impossible IPv4 "
	  "address" },
	{ "RDNS_NONE", 0.5, "the client's address has no reverse name (in "
	  "petreld: none that leads back to the address; from a stored "
	  "message: the receiving MTA's Received field says so)" },
	{ "RDNS_DYNAMIC", 2.0, "the client's reverse name is made from its "
	  "address, as an access provider names a customer's line" },
	{ "RCVD_HELO_FORGED", 1.5, "a client greeted with a free mail "
	  "provider's name from a host of another owner" },
	{ "FROM_FREEMAIL_FORGED", 1.5, "From is a free mail address, but "
	  "the message passed none of the provider's servers (not a list)" },
	{ "RCVD_DATE_ORDER", 1.0, "an older Received field is dated more "
	  "than a day after a newer one" },
	/* attachments */
	{ "ATTACH_EXECUTABLE", 5.0, "an executable or script attachment" },
	{ "ATTACH_DOUBLE_EXT", 3.0, "an attachment name that hides its real "
	  "type (invoice.pdf.exe, right-to-left override)" },
	{ "ATTACH_MACRO", 3.0, "an Office document with macros" },
	{ "ARCHIVE_EXECUTABLE", 5.0, "an executable or script inside a ZIP "
	  "archive" },
	{ "ARCHIVE_NESTED", 1.0, "an archive inside a ZIP archive" },
	{ "ARCHIVE_ENCRYPTED", 2.0, "a ZIP archive with encrypted entries "
	  "(hides its content from scanners)" },
	{ "ARCHIVE_BOMB", 2.0, "a ZIP archive that claims to unpack to far "
	  "more than its size" },
	{ "ARCHIVE_OVERSIZE", 1.0, "a ZIP directory too large to read" },
	/* URLs */
	{ "URL_SHORTENER", 0.3, "a link through a URL shortener" },
	{ "URL_IP", 1.5, "a link to a numeric IP address" },
	{ "URL_IP_OBFUSCATED", 3.0, "a link to an IP address written to "
	  "hide it (decimal, hex, octal)" },
	{ "URL_USERINFO", 2.5, "a link with user@ before the host "
	  "(http://bank.example@evil.example/)" },
	{ "URL_PORT", 0.5, "a link to an unusual port" },
	{ "URL_MANY_DOMAINS", 0.1, "links to many different sites" },
	/* phishing */
	{ "PHISH_LINK_MISMATCH", 2.5, "link text shows one site, the link "
	  "goes to another (half in list and bulk mail)" },
	{ "FORM_PASSWORD", 3.5, "an HTML form asking for a password" },
	{ "FORM_EXTERNAL", 1.0, "an HTML form that posts to another site "
	  "than the sender's" },
	{ "FORM_VERIFY_ACCOUNT", 2.0, "an HTML form with a request to verify "
	  "or update an account" },
	{ "FROM_LOOKALIKE", 5.0, "the From domain looks like a protected "
	  "domain" },
	{ "REPLYTO_LOOKALIKE", 4.0, "the Reply-To domain looks like a "
	  "protected domain" },
	{ "URL_LOOKALIKE", 3.0, "a link host looks like a protected "
	  "domain" },
	{ "FROM_IMPERSONATION", 6.0, "an outside sender uses the name of one "
	  "of the organisation's users" },
	{ "ADVANCE_FEE", 3.0, "the body reads as an advance-fee fraud "
	  "letter: phrases of three kinds, two of them the fraud's own "
	  "(secrecy, a next of kin, a deceased client, millions of "
	  "dollars...)" },
	{ "HTML_HIDDEN", 0.3, "HTML text hidden from the reader" },
	{ "HTML_TINY", 0.3, "HTML text in a tiny font" },
	{ "HTML_SAMECOLOR", 0.5, "HTML text in its background colour" },
};

const size_t filter_syms_rules_n =
	sizeof(filter_syms_rules) / sizeof(filter_syms_rules[0]);
