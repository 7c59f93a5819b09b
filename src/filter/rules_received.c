/* rules_received.c - the Received chain and the greeting: a stranger
 * using this server's own name, an address literal that is not the
 * client's, impossible addresses, and dates that run backwards.
 * Only what can be decided without knowing the other hosts: whether one
 * hop's "by" name should equal the next hop's "from" name cannot be
 * (hosts have internal and public names), so it is not judged; but a
 * client that greets with a free mail provider's name from an address
 * whose reverse name is another owner's is not that provider. */
#include "filter/rules_private.h"

#include <arpa/inet.h>
#include <strings.h>
#include <string.h>

#include "core/buf.h"
#include "filter/received.h"
#include "filter/rep_private.h"

#define RCVD_TEXT_MAX 4096
/* Clocks of honest servers disagree by minutes, time zones mislabelled
 * by hours; a forged line is typically days off. */
#define ORDER_SLACK (24 * 3600)

struct rcvd {
	struct received_names n;	/* from, helo, reverse name */
	char by[RECEIVED_HOST_MAX];	/* the "by" name, or "" */
	bool have_date;
	int64_t date;
	bool bad_ip;
};

/* A bracketed dotted quad with an octet over 255: "[123.456.7.8]". */
static bool has_bad_ip(struct span s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] != '[')
			continue;
		unsigned parts = 0, val = 0, digits = 0;
		bool bad = false;
		size_t j = i + 1;
		for (; j < s.len && j < i + 20; j++) {
			unsigned char ch = s.p[j];
			if (ch >= '0' && ch <= '9') {
				val = val * 10 + (ch - '0');
				digits++;
				if (digits > 3)
					break;
			} else if (ch == '.' && digits > 0) {
				bad |= val > 255;
				parts++;
				val = digits = 0;
			} else {
				break;
			}
		}
		if (j < s.len && s.p[j] == ']' && parts == 3 && digits > 0 &&
		    (bad || val > 255))
			return true;
	}
	return false;
}

static void rcvd_parse(struct span value, struct rcvd *r)
{
	struct buf b;

	memset(r, 0, sizeof *r);
	buf_init(&b, RCVD_TEXT_MAX);
	/* full: what fitted is read; the date at the end may be lost */
	int rc = mime_unfold(value, &b);
	struct span s = buf_span(&b);
	received_names(s, &r->n);
	received_word_after(s, "by", r->by);
	r->bad_ip = has_bad_ip(s);
	const unsigned char *semi = NULL;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ';')
			semi = s.p + i;
	int zone;
	if (rc == 0 && semi != NULL)
		r->have_date = mime_date_parse(span_make(semi + 1, (size_t)
						(s.p + s.len - semi - 1)),
					       &r->date, &zone) == 0;
	buf_release(&b);
}

/* The Received fields top down into v, at most max. */
static size_t rcvd_all(struct span hdr, struct rcvd *v, size_t max)
{
	size_t pos = 0, n = 0;
	struct span name, value;

	while (n < max && mime_header_next(hdr, &pos, &name, &value) == 1)
		if (span_eq_ci(name, "Received"))
			rcvd_parse(value, &v[n++]);
	return n;
}

static bool is_ours(const struct rules_ctx *c, const char *host)
{
	const char *me = c->conf->host_name;

	return me != NULL && me[0] != '\0' && strcasecmp(host, me) == 0;
}

/* HELO [a.b.c.d] (or [IPv6:...]) that is not the client's address. */
static void helo_literal(struct rules_ctx *c, const char *helo)
{
	size_t n = strlen(helo);
	char lit[64];
	unsigned char a[16];

	if (!c->facts->have_ip || n < 3 || helo[0] != '[' ||
	    helo[n - 1] != ']' || n - 2 >= sizeof lit)
		return;
	memcpy(lit, helo + 1, n - 2);
	lit[n - 2] = '\0';
	if (strncasecmp(lit, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, lit + 5, a) != 1)
			return;
	} else {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		if (inet_pton(AF_INET, lit, a + 12) != 1)
			return;
	}
	if (memcmp(a, c->facts->ip, 16) != 0)
		RULES_ADD(c, "HELO_IP_MISMATCH", "HELO %s", helo);
}

/* Who stands behind a registrable domain, where one owner runs several
 * (Gmail's servers are named google.com, Hotmail's outlook.com,
 * Yandex's yandex.net). */
static const char *owner_of(const char *org)
{
	static const struct {
		const char *prefix, *owner;
	} same[] = {
		{ "gmail.", "google" }, { "googlemail.", "google" },
		{ "google.", "google" }, { "hotmail.", "microsoft" },
		{ "outlook.", "microsoft" }, { "live.", "microsoft" },
		{ "msn.", "microsoft" }, { "ymail.", "yahoo" },
		{ "yahoo.", "yahoo" }, { "yahoodns.", "yahoo" },
		{ "me.", "apple" }, { "icloud.", "apple" },
		{ "gmx.", "gmx" }, { "mail.com", "gmx" },
		{ "web.de", "gmx" }, { "cinetic.de", "gmx" },
		{ "mac.", "apple" },
		{ "163.", "netease" }, { "126.", "netease" },
		{ "yandex.", "yandex" }, { "protonmail.", "proton" },
		{ "proton.", "proton" }, { "tutanota.", "tutanota" },
		{ "tuta.", "tutanota" }, { "zoho.", "zoho" },
		{ "zohomail.", "zoho" }, { "sina.", "sina" },
		{ "hanmail.", "daum" }, { "daum.", "daum" },
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		if (strncmp(org, same[i].prefix, strlen(same[i].prefix)) == 0)
			return same[i].owner;
	return org;
}

/* A greeting with a free mail provider's name from a host whose
 * reverse name belongs to someone else. */
static void helo_forged(struct rules_ctx *c, const struct rcvd *r,
			size_t nth)
{
	char hn[DMARC_DOMAIN_MAX + 1], ho[DMARC_DOMAIN_MAX + 1];
	char rn[DMARC_DOMAIN_MAX + 1], ro[DMARC_DOMAIN_MAX + 1];

	const char *helo = r->n.helo, *rdns = r->n.rdns;

	if (helo[0] == '\0' || rdns[0] == '\0' ||
	    strchr(helo, '.') == NULL || strchr(rdns, '.') == NULL ||
	    !rules_org(helo, strlen(helo), hn, ho) ||
	    !rules_org(rdns, strlen(rdns), rn, ro) ||
	    !rules_freemail(ho))
		return;
	if (strcmp(owner_of(ho), owner_of(ro)) != 0)
		RULES_ADD(c, "RCVD_HELO_FORGED", "Received #%zu: HELO %s "
			  "from %s", nth, hn, rn);
}

/* A name made from the address itself, as access providers name their
 * customers' lines ("dsl-24-132-246-246.example.net",
 * "246.246.132.24.dyn.example.net"): three or more of the four octets
 * written as numbers in it. Mail servers are named by their owners. */
static bool rdns_dynamic(const char *name, const unsigned char ip[16])
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	bool used[4] = { false, false, false, false };
	unsigned hits = 0;

	if (memcmp(ip, mapped, sizeof mapped) != 0)
		return false;	/* IPv6: names of its own kind, not judged */
	for (const char *p = name; *p != '\0';) {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		unsigned val = 0, digits = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (++digits <= 3)
				val = val * 10 + (unsigned)(*p - '0');
		for (int k = 0; k < 4 && digits <= 3; k++)
			if (!used[k] && ip[12 + k] == val) {
				used[k] = true;
				hits++;
				break;
			}
	}
	return hits >= 3;
}

/* The client's reverse name: none (or, in petreld, one that does not
 * lead back to the address) or an access line's. Not for our own
 * users, nor for local addresses, which have no public names. */
static void client_rdns(struct rules_ctx *c)
{
	const struct filter_facts *f = c->facts;

	if (f->internal || !f->have_ip || f->rdns == NULL ||
	    rep_ip_is_local(f->ip))
		return;
	if (f->rdns[0] == '\0')
		RULES_ADD(c, "RDNS_NONE", "the client's address has no name");
	else if (rdns_dynamic(f->rdns, f->ip))
		RULES_ADD(c, "RDNS_DYNAMIC", "%s", f->rdns);
}

/* The owner of host's registrable domain is owner. */
static bool host_of(const char *host, const char *owner)
{
	char hn[DMARC_DOMAIN_MAX + 1], ho[DMARC_DOMAIN_MAX + 1];

	return host[0] != '\0' && strchr(host, '.') != NULL &&
	       rules_org(host, strlen(host), hn, ho) &&
	       strcmp(owner_of(ho), owner) == 0;
}

/* A free mail address in From on mail that never passed the provider's
 * servers: no hop of the chain was sent, greeted or received by one of
 * them. Lists resend their posters' mail from their own hosts and cut
 * the chain (bulk); DKIM or DMARC passing for the From domain proves the
 * provider's hand whatever the chain says. */
static void freemail_forged(struct rules_ctx *c, const struct rcvd *v,
			    size_t n)
{
	const struct filter_facts *f = c->facts;

	if (n == 0 || c->bulk || f->internal || c->from_org[0] == '\0' ||
	    !rules_freemail(c->from_org) ||
	    (f->dmarc != NULL && strcmp(f->dmarc, "pass") == 0))
		return;
	for (size_t i = 0; f->dkim_pass_domains && i < f->n_dkim_pass; i++)
		if (f->dkim_pass_domains[i] != NULL &&
		    dmarc_aligned(f->dkim_pass_domains[i], c->from_domain,
				  DMARC_ALIGN_RELAXED))
			return;
	/* AOL's mail has left through Yahoo's servers since Yahoo took it
	 * over; their greetings are still told apart (owner_of) */
	const char *owners[2] = { owner_of(c->from_org),
		strncmp(c->from_org, "aol.", 4) == 0 ? "yahoo" : NULL };
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 2 && owners[k] != NULL; k++)
			if (host_of(v[i].n.from, owners[k]) ||
			    host_of(v[i].n.helo, owners[k]) ||
			    host_of(v[i].n.rdns, owners[k]) ||
			    host_of(v[i].by, owners[k]))
				return;
	RULES_ADD(c, "FROM_FREEMAIL_FORGED", "%s, through none of its "
		  "servers", c->from_domain);
}

void rules_received(struct rules_ctx *c)
{
	struct rcvd v[FILTER_RULES_FIELDS_MAX];
	const char *helo = c->facts->helo;

	if (helo != NULL && !c->facts->internal) {
		if (is_ours(c, helo))
			RULES_ADD(c, "HELO_OURS", "HELO %s", helo);
		helo_literal(c, helo);
	}
	client_rdns(c);
	size_t n = rcvd_all(c->hdr, v, FILTER_RULES_FIELDS_MAX);
	for (size_t i = 0; i < n && !c->have_rcvd_date; i++)
		if (v[i].have_date) {
			c->have_rcvd_date = true;
			c->rcvd_date = v[i].date;
		}
	/* our own fields are on top; below the first from elsewhere, a
	 * field "by" us is a forgery that makes outside mail look internal
	 * (a list can bring our user's mail back, but it says so: bulk) */
	bool outside = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].bad_ip)
			RULES_ADD(c, "RCVD_BAD_IP", "Received #%zu", i + 1);
		helo_forged(c, &v[i], i + 1);
		if (!is_ours(c, v[i].by))
			outside = true;
		else if (outside && !c->facts->internal && !c->bulk)
			RULES_ADD(c, "RCVD_FORGED_OURS", "Received #%zu by %s",
				  i + 1, v[i].by);
	}
	freemail_forged(c, v, n);
	for (size_t i = 0; i + 1 < n; i++) {
		/* v[i] is newer than v[i + 1] */
		if (v[i].have_date && v[i + 1].have_date &&
		    v[i + 1].date > v[i].date + ORDER_SLACK) {
			RULES_ADD(c, "RCVD_DATE_ORDER", "Received #%zu is dated "
				  "after #%zu", i + 2, i + 1);
			break;
		}
	}
}
