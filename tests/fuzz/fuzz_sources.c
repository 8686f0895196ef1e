/*
 * fuzz_sources.c: the sources file parser (tools/ingest/sources.c, included
 * whole: it is pure and the fuzz programs link libstore only).  Any input
 * is either refused with "line N: ..." and -EINVAL, or accepted with
 * entries that keep every promise of sources.h: a known type, a valid
 * and unique name where one is due, a non-empty location, options only
 * where they belong, and at most SOURCES_PATTERNS_MAX patterns.  Parsing
 * twice gives the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct sources *a, const struct sources *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct sources_entry *x = &a->v[i];
		const struct sources_entry *y = &b->v[i];

		if (x->type != y->type || x->line != y->line ||
		    strcmp(x->where, y->where) != 0 ||
		    (x->name == NULL) != (y->name == NULL) ||
		    (x->name && strcmp(x->name, y->name) != 0) ||
		    x->n_includes != y->n_includes ||
		    x->n_excludes != y->n_excludes ||
		    x->n_allow_hosts != y->n_allow_hosts ||
		    x->has_archived != y->has_archived ||
		    x->has_wiki != y->has_wiki ||
		    x->has_pipelines != y->has_pipelines ||
		    x->is_one_file_system != y->is_one_file_system)
			abort();
	}
}

static void
check(const struct sources *s)
{
	unsigned last = 0;

	if (s->n == 0)
		abort();
	for (size_t i = 0; i < s->n; i++) {
		const struct sources_entry *e = &s->v[i];
		int is_group = e->type == SOURCES_GITLAB_GROUP ||
		    e->type == SOURCES_GITHUB_ORG;

		if (e->type < SOURCES_DIR || e->type > SOURCES_GITHUB_ORG ||
		    e->line <= last || e->where == NULL ||
		    e->where[0] == '\0' || (e->name == NULL) != is_group ||
		    (e->name && !store_source_name_ok(e->name,
		    strlen(e->name))) ||
		    (!is_group && e->n_includes > 0) ||
		    (!is_group && e->n_allow_hosts > 0) ||
		    e->n_allow_hosts > SOURCES_HOSTS_MAX ||
		    (e->type != SOURCES_DIR && !is_group &&
		    e->n_excludes > 0) ||
		    e->n_includes + e->n_excludes > SOURCES_PATTERNS_MAX)
			abort();
		last = e->line;
		for (size_t j = 0; j < i; j++) {
			const struct sources_entry *o = &s->v[j];

			if (e->name && o->name && o->type == e->type &&
			    strcmp(e->name, o->name) == 0)
				abort();
		}
		/* Patterns from the input must be safe to use. */
		(void)sources_wants(e, "sub/app");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sources *a = NULL;
	struct sources *b = NULL;
	struct err err;
	int r;

	r = sources_parse((const char *)data, size, &a, &err);
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		if (r != -EINVAL || strncmp(err.msg, "line ", 5) != 0)
			abort();
		return 0;
	}
	check(a);
	if (sources_parse((const char *)data, size, &b, &err) != 0)
		abort();
	same(a, b);
	sources_free(a);
	sources_free(b);
	return 0;
}
