/* ctl_filter.c - petrelctl filter settings | allow | block: a domain's
 * filter settings in the store, and the allow/block list files of the
 * global, domain and user levels (admin_filter.h edits them the same
 * way the REST API does; petreld notices the change within
 * FILTER_LIST_CHECK_SECONDS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/admin_filter.h"
#include "cli/ctl.h"
#include "core/limits.h"
#include "store/store.h"

static const char settings_usage[] =
	"filter settings DOMAIN [--level standard|enterprise|strict] "
	"[--quarantine-days N] [--user-release yes|no] "
	"[--external-tag off|subject|banner]";

static int yes_no(const char *s)
{
	return !strcmp(s, "yes") ? 1 : !strcmp(s, "no") ? 0 : -1;
}

int ctl_filter_settings(struct ctl *c, int argc, char **argv)
{
	if (argc < 1 || argv[0][0] == '-')
		return ctl_usage_error(settings_usage);
	const char *domain = argv[0];
	struct store_filter_settings s;
	int found = store_filter_settings_get(c->st, domain, &s, &c->err);
	if (found < 0)
		return ctl_fail(c);
	if (found == 0) {
		err_set(&c->err, ERR_NOTFOUND, 0, "", "no such domain: %s",
			domain);
		return ctl_fail(c);
	}
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int x;
		char *end;
		if (v == NULL)
			return ctl_usage_error(settings_usage);
		i++;
		if (!strcmp(opt, "--level") &&
		    (x = store_filter_level_parse(v)) >= 0) {
			s.level = (enum store_filter_level)x;
		} else if (!strcmp(opt, "--external-tag") &&
			   (x = store_external_tag_parse(v)) >= 0) {
			s.external_tag = (enum store_external_tag)x;
		} else if (!strcmp(opt, "--user-release") &&
			   (x = yes_no(v)) >= 0) {
			s.user_release = x == 1;
		} else if (!strcmp(opt, "--quarantine-days")) {
			unsigned long days = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || days < 1 ||
			    days > STORE_QUARANTINE_DAYS_MAX) {
				fprintf(stderr, "petrelctl: quarantine days "
					"must be 1 to %d\n",
					STORE_QUARANTINE_DAYS_MAX);
				return 2;
			}
			s.quarantine_days = (uint32_t)days;
		} else {
			return ctl_usage_error(settings_usage);
		}
	}
	if (argc > 1 &&
	    store_filter_settings_set(c->st, domain, &s, &c->err) != 0)
		return ctl_fail(c);
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(domain, ascii, sizeof ascii, uni, sizeof uni,
			      &c->err) != 0)
		return ctl_fail(c);
	if (c->json) {
		ctl_doc(c, admin_filter_settings_json(ascii, &s));
		return 0;
	}
	printf("domain:          %s\nlevel:           %s\n"
	       "quarantine days: %u\nuser release:    %s\n"
	       "external tag:    %s\n", ascii, store_filter_level_name(s.level),
	       s.quarantine_days, s.user_release ? "yes" : "no",
	       store_external_tag_name(s.external_tag));
	return 0;
}

/* ---- allow | block add|remove|list -------------------------------------- */

static int lists(struct ctl *c, int argc, char **argv,
		 enum filter_list_action act)
{
	const char *usage = act == FILTER_LIST_ALLOW
		? "filter allow add|remove|list [--domain D | --user A] [ENTRY...]"
		: "filter block add|remove|list [--domain D | --user A] [ENTRY...]";
	if (argc < 1)
		return ctl_usage_error(usage);
	const char *verb = argv[0], *domain = NULL, *user = NULL;
	const char *entries[FILTER_LISTDIR_EDIT_MAX];
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			domain = argv[++i];
		else if (!strcmp(argv[i], "--user") && i + 1 < argc)
			user = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return ctl_usage_error(usage);
		else if (n < FILTER_LISTDIR_EDIT_MAX)
			entries[n++] = argv[i];
		else
			return ctl_usage_error(usage);
	}
	char data_dir[1024];
	if (store_dir_name(c->st, data_dir, sizeof data_dir) != 0) {
		err_set(&c->err, ERR_CONFIG, 0, "", "data_dir is too long");
		return ctl_fail(c);
	}
	if (!strcmp(verb, "list")) {
		if (n != 0)
			return ctl_usage_error(usage);
		json_t *items;
		if (admin_list_show(c->st, data_dir, domain, user, &items,
				    &c->err) != 0)
			return ctl_fail(c);
		/* only this list; admin_list_show gives both */
		json_t *mine = json_array();
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
			if (!strcmp(json_string_value(json_object_get(it, "list")),
				    filter_list_action_str(act)))
				json_array_append(mine, it);
		json_decref(items);
		if (c->json) {
			ctl_doc(c, mine);
			return 0;
		}
		json_array_foreach(mine, i, it) {
			json_t *bad = json_object_get(it, "error");
			printf("%-40s %-6s %s:%lld%s%s\n",
			       json_string_value(json_object_get(it, "entry")),
			       json_string_value(json_object_get(it, "level")),
			       json_string_value(json_object_get(it, "file")),
			       (long long)json_integer_value(
				       json_object_get(it, "line")),
			       bad ? "  BAD: " : "",
			       bad ? json_string_value(bad) : "");
		}
		if (json_array_size(mine) == 0)
			printf("the %s list is empty\n",
			       filter_list_action_str(act));
		json_decref(mine);
		return 0;
	}
	bool add = !strcmp(verb, "add");
	if ((!add && strcmp(verb, "remove")) || n == 0)
		return ctl_usage_error(usage);
	json_t *res;
	if (admin_list_edit(c->st, data_dir, domain, user, act, add, entries,
			    n, &res, &c->err) != 0)
		return ctl_fail(c);
	if (!add && json_array_size(json_object_get(res, "removed")) == 0) {
		err_set(&c->err, ERR_NOTFOUND, 0, "", "not in %s: %s",
			json_string_value(json_object_get(res, "file")),
			json_string_value(json_array_get(
				json_object_get(res, "unchanged"), 0)));
		json_decref(res);
		return ctl_fail(c);
	}
	if (c->json) {
		ctl_doc(c, res);
		return 0;
	}
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(res, add ? "added" : "removed"), i, e)
		printf("%s %s: %s\n", add ? "added to" : "removed from",
		       json_string_value(json_object_get(res, "file")),
		       json_string_value(e));
	json_array_foreach(json_object_get(res, "unchanged"), i, e)
		printf("%s: %s\n", add ? "already listed" : "not listed",
		       json_string_value(e));
	json_decref(res);
	return 0;
}

int ctl_filter_allow(struct ctl *c, int argc, char **argv)
{
	return lists(c, argc, argv, FILTER_LIST_ALLOW);
}

int ctl_filter_block(struct ctl *c, int argc, char **argv)
{
	return lists(c, argc, argv, FILTER_LIST_BLOCK);
}
