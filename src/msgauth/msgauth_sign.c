/* msgauth_sign.c - DKIM-signing a submitted message as its author's
 * domain (the From domain, which submission checked the user may use),
 * with every key the domain signs with now: RSA-2048 and Ed25519 side by
 * side (RFC 8463 section 4 suggests both while verifiers learn Ed25519).
 * Each signature is independent (neither covers the other). */
#include "msgauth/msgauth_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/span.h"

void msgauth_sign(struct store *st, const struct dkim_key_policy *policy,
		  const char *msg, size_t len, time_t now,
		  struct msgauth_signed *out)
{
	memset(out, 0, sizeof *out);
	size_t hlen = len;
	for (size_t i = 0; i + 1 < len; i++)
		if (msg[i] == '\n' && (msg[i + 1] == '\n' ||
				       (msg[i + 1] == '\r' && i + 2 < len &&
					msg[i + 2] == '\n'))) {
			hlen = i + 1;
			break;
		}
	const char *why = "";
	if (st == NULL) {
		snprintf(out->why, sizeof out->why, "no key store");
		return;
	}
	if (dmarc_from_domain(span_make(msg, hlen), out->domain, &why) !=
	    DMARC_FROM_OK) {
		snprintf(out->why, sizeof out->why, "From: %s", why);
		return;
	}
	struct dkim_signing_key keys[2];
	size_t n = 0;
	struct err err;
	if (dkim_keys_active(st, out->domain, policy, (int64_t)now, keys, &n,
			     &err) != 0) {
		snprintf(out->why, sizeof out->why, "keys: %.120s", err.msg);
		return;
	}
	if (n == 0)
		snprintf(out->why, sizeof out->why, "%.100s has no DKIM key "
			 "(not hosted here)", out->domain);
	size_t sel = 0;
	for (size_t i = 0; i < n; i++) {
		struct dkim_sign_opts o = {
			.domain = out->domain,
			.selector = keys[i].selector,
			.key = keys[i].pkey,
			.t = now,
		};
		char *field = NULL;
		if (dkim_sign(msg, len, &o, &field, &err) != 0) {
			snprintf(out->why, sizeof out->why, "%.40s: %.100s",
				 keys[i].selector, err.msg);
			continue;
		}
		size_t fl = strlen(field);
		if (fl <= sizeof out->fields - out->len) {
			memcpy(out->fields + out->len, field, fl);
			out->len += fl;
			out->n++;
			int w = snprintf(out->selectors + sel,
					 sizeof out->selectors - sel, "%s%s",
					 sel ? " " : "", keys[i].selector);
			if (w > 0 && (size_t)w < sizeof out->selectors - sel)
				sel += (size_t)w;
		}
		free(field);
	}
	dkim_signing_keys_free(keys, n);
}
