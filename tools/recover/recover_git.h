/*
 * recover_git.h: the git half of `amber recover`: read a stored mirror's
 * refs (repos/NAME.git/packed-refs), copy the mirror out of the store into
 * a scratch repository whose config amber writes (no hooks, no config
 * from the snapshot), list a target's refs with `git ls-remote`, and push
 * chosen refs to it.  The token reaches git only through its environment
 * (http.<url>.extraHeader in GIT_CONFIG_*), never its command line.
 */
#ifndef RECOVER_GIT_H
#define RECOVER_GIT_H

#include <stddef.h>

#include "store.h"

#define RECOVER_OID_MAX 64	/* hex digits of a sha256 id */
#define RECOVER_REFS_MAX 1000000	/* refs of one repository */

struct recover_ref {
	char *name;		/* "refs/heads/main" */
	char oid[RECOVER_OID_MAX + 1];
};

struct recover_refs {
	struct recover_ref *v;	/* sorted by name */
	size_t n;
	char *head;		/* HEAD's branch ("refs/heads/main"), or NULL */
};

void recover_refs_fini(struct recover_refs *r);

/* The ref ${name} in ${r} (sorted), or NULL. */
const struct recover_ref *recover_refs_find(const struct recover_refs *r,
    const char *name);

/*
 * recover_ref_name_ok(name): 1 if ${name} is a ref name git accepts and a
 * refspec can carry: below "refs/", no control byte, space, "~^:?*[\",
 * "..", "@{", "//", component starting with '.' or ending with ".lock".
 */
int recover_ref_name_ok(const char *name);

/*
 * recover_refs_parse(buf, len, sep, out):
 * Parse "OID<sep>REF\n" lines (packed-refs: sep ' ', with '#' headers and
 * '^' peeled lines; ls-remote: sep '\t') into *${out}, sorted by name.
 * Lines for other names than refs/... (HEAD in ls-remote) are skipped, as
 * are peeled "^{}" entries.  The bytes come from a stored mirror or a
 * remote: 0, -EBADMSG on a malformed line or a name given twice, -EFBIG
 * past RECOVER_REFS_MAX refs, or -ENOMEM.  On error *${out} holds what
 * was read so far, for recover_refs_fini().
 */
int recover_refs_parse(const char *buf, size_t len, char sep,
    struct recover_refs *out);

/* 1 if ${n} (${len} bytes) names a pack file git may hold: "pack-<hex>.pack|idx". */
int recover_is_pack_name(const uint8_t *n, size_t len);

/*
 * recover_git_stored_refs(s, mirror, out):
 * The refs of the stored mirror directory ${mirror} (an entry of
 * repos/), from its packed-refs and HEAD.  A line that is not "OID REF"
 * with a valid name is refused (-EBADMSG), as is a file over 256 MiB.
 */
int recover_git_stored_refs(struct store *s, const struct store_entry *mirror,
    struct recover_refs *out);

/*
 * recover_git_extract(s, mirror, dir):
 * Write the mirror ${mirror} as a bare repository at the new directory
 * ${dir}: its packs (objects/pack/pack-*.{pack,idx}), packed-refs,
 * HEAD and shallow, and a config written here (hooks off).  Nothing
 * else of the snapshot is copied.  Returns a store error, -EBADMSG for a
 * bad name, -errno of the file system.
 */
int recover_git_extract(struct store *s, const struct store_entry *mirror,
    const char *dir);

/* A remote git repository and how to reach it. */
struct recover_remote {
	char *url;		/* no userinfo */
	char **envp;		/* for git: ours, plus the credential */
	char **own;		/* the strings envp adds (wiped at fini) */
	size_t n_own;
};

/*
 * recover_remote_init(rm, url, user, token):
 * Prepare to talk to ${url} (http or https, without credentials): with a
 * ${token}, git sends "Authorization: Basic base64(${user}:${token})" to
 * that URL only; redirects are not followed and no other protocol is
 * allowed.  Returns -EINVAL for another URL, -ENOMEM.
 */
int recover_remote_init(struct recover_remote *rm, const char *url,
    const char *user, const char *token);
void recover_remote_fini(struct recover_remote *rm);

/*
 * recover_git_ls_remote(rm, out, why, cap):
 * The refs of ${rm} (HEAD left out).  Returns -EIO if git fails, with
 * its last words in ${why}; -EBADMSG for output that is not refs.
 */
int recover_git_ls_remote(const struct recover_remote *rm,
    struct recover_refs *out, char *why, size_t cap);

/*
 * recover_git_is_ancestor(dir, old, new):
 * 1 if the commit ${old} is in the repository ${dir} and an ancestor of
 * ${new} (a push from ${old} to ${new} is a fast-forward), else 0.
 */
int recover_git_is_ancestor(const char *dir, const char *old_oid,
    const char *new_oid);

/* The outcome of one ref of a push. */
struct recover_push_res {
	char *ref;
	int is_ok;
	char *why;		/* the forge's reason when !is_ok */
};

/*
 * recover_git_push(rm, dir, refs, force, n, res, why, cap):
 * Push the ${n} refs ${refs} (each to itself, "+" where ${force}[i]) of
 * the repository ${dir} to ${rm}, in batches, hooks off.  res[i] tells
 * each ref's fate (the caller frees each ref and why).  Returns 0 when
 * git ran (some refs may still be refused: see res), -EIO with ${why}
 * when git failed before any ref was decided.
 */
int recover_git_push(const struct recover_remote *rm, const char *dir,
    const struct recover_ref *const *refs, const int *force, size_t n,
    struct recover_push_res *res, char *why, size_t cap);

/* recover_rm_tree(path): remove ${path} and everything below it. */
void recover_rm_tree(const char *path);

#endif
