/*
 * sources.h: the sources file of `amber ingest STORE --sources FILE`
 * (man/amber-sources.5): one source a line,
 *
 *   dir NAME PATH [exclude=PAT]... [one-file-system=yes|no]
 *   repo NAME LOCATION
 *   pipeline NAME SPEC
 *   gitlab-group URL [include=PAT]... [exclude=PAT]... [archived=yes|no]
 *                    [wiki=yes|no] [pipelines=yes|no] [allow-clone-host=H]...
 *   github-org ORG|URL [the same options]
 *
 * with '#' comments, blank lines, and fields separated by blanks (a field
 * may be "double-quoted", with \" and \\ inside).  The parser is pure (no
 * I/O), so tests/fuzz/fuzz_sources.c drives it byte for byte.
 */
#ifndef SOURCES_H
#define SOURCES_H

#include <stddef.h>

#include "err.h"

#define SOURCES_LINE_MAX 4096	/* bytes of one line */
#define SOURCES_MAX 100000	/* lines that name a source */
#define SOURCES_PATTERNS_MAX 64	/* include= and exclude= of one line */
#define SOURCES_HOSTS_MAX 16	/* allow-clone-host= of one line */

enum sources_type {
	SOURCES_DIR = 1,
	SOURCES_REPO,
	SOURCES_PIPELINE,
	SOURCES_GITLAB_GROUP,
	SOURCES_GITHUB_ORG,
};

struct sources_entry {
	int type;		/* enum sources_type */
	unsigned line;		/* 1-based, for messages */
	char *name;		/* dir, repo, pipeline; else NULL */
	char *where;		/* PATH, LOCATION, SPEC, URL or ORG */
	char **includes;	/* fnmatch(3) patterns on the project path */
	size_t n_includes;
	char **excludes;	/* dir: on file names; groups: project path */
	size_t n_excludes;
	int has_archived;	/* groups: archived projects too (default 1) */
	int has_wiki;		/* groups: wikis too (default 1) */
	int has_pipelines;	/* groups: pipeline metadata (default 1) */
	char **allow_hosts;	/* groups: allow-clone-host=, "host[:port]" */
	size_t n_allow_hosts;
	int is_one_file_system;	/* dir */
};

struct sources {
	struct sources_entry *v;
	size_t n;
};

/*
 * sources_parse(text, len, out, err):
 * Parse the ${len} bytes of ${text} (a whole sources file).  Returns 0
 * and a new *${out} (free with sources_free()); -EINVAL if the text is
 * not a valid sources file, with "line N: what is wrong" in ${err}->msg; or
 * -ENOMEM.  Checks what can be checked without I/O: keywords, options and
 * their values (allow-clone-host= is sources_is_host()), source names ([A-Za-z0-9._-]+, not starting with a dot),
 * names unique per kind (a repo NAME also takes NAME.git), URLs' shape.
 */
int sources_parse(const char *text, size_t len, struct sources **out,
    struct err *err);

void sources_free(struct sources *s);

/*
 * sources_wants(e, path):
 * 1 if the project ${path} (relative to the group or organisation, e.g.
 * "sub/app") is selected by the include= and exclude= patterns of ${e}:
 * it matches an include (or there is none) and no exclude.  Else 0.
 */
int sources_wants(const struct sources_entry *e, const char *path);

/*
 * sources_is_host(s): 1 if ${s} is a host as --allow-clone-host and
 * allow-clone-host= take it: 1 to 253 letters, digits, '.' and '-', or
 * a bracketed IPv6 literal, then optionally ':' and a port (1 to 5
 * digits); else 0.
 */
int sources_is_host(const char *s);

/* The keyword of a type ("dir", "gitlab-group"...). */
const char *sources_type_name(int type);

#endif
