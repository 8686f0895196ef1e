/*
 * snap.c: sealing, signing, opening and ordering snapshot manifests.
 *
 * Sealing: a fresh X25519 key pair per manifest; the body key is
 * HKDF(X25519(eph, store), salt = eph_pub || store_pub, "amber v1
 * snapshot").  Signing: Ed25519 by the writer's key (the master's, or a
 * registered ingest key's), over the whole object before the signature,
 * checked before anything is decrypted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idset.h"
#include "index.h"
#include "log.h"
#include "rd.h"
#include "snap.h"
#include "storei.h"
#include "tree.h"

#define HEAD_FIXED (8 + 16 + 2 + 32 + 12)

static int
body_encode(const struct store_snap_new *sn, const struct store_entry *root,
    struct wb *w)
{
	const char *host = sn->host ? sn->host : "";
	struct timespec ts;
	uint64_t commit_ns;
	int r;

	/* When it was committed, by the writer's clock: the order of
	 * snapshots within one second (see snap_order). */
	clock_gettime(CLOCK_REALTIME, &ts);
	commit_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	if (sn->n_tags > UINT16_MAX || sn->n_sources > UINT16_MAX)
		return -EINVAL;
	if ((r = wb_u8(w, SNAP_VERSION)) < 0 ||
	    (r = wb_u64(w, sn->time_sec)) < 0 ||
	    (r = wb_u32(w, sn->time_nsec)) < 0 ||
	    (r = wb_u64(w, commit_ns)) < 0 ||
	    (r = wb_str16(w, host, strlen(host))) < 0 ||
	    (r = wb_u16(w, sn->n_tags)) < 0)
		return r;
	for (size_t i = 0; i < sn->n_tags; i++)
		if ((r = wb_str16(w, sn->tags[i], strlen(sn->tags[i]))) < 0)
			return r;
	if ((r = wb_bytes(w, &root->tree, sizeof(root->tree))) < 0 ||
	    (r = wb_u64(w, root->n_desc)) < 0 || (r = wb_u32(w, 0)) < 0)
		return r;
	if ((r = wb_u16(w, sn->n_sources)) < 0)
		return r;
	for (size_t i = 0; i < sn->n_sources; i++) {
		const struct store_source *s = &sn->sources[i];
		struct store_entry e = s->root;

		e.name = (const uint8_t *)s->name;
		e.name_len = strlen(s->name);
		e.type = STORE_DIR;
		if ((r = wb_u8(w, s->kind)) < 0 ||
		    (r = wb_str16(w, s->origin, strlen(s->origin))) < 0 ||
		    (r = wb_u64(w, s->n_files)) < 0 ||
		    (r = wb_u64(w, s->n_bytes)) < 0 ||
		    (r = wb_u32(w, s->flags)) < 0 ||
		    (r = tree_entry_encode(w, &e)) < 0)
			return r;
	}
	return 0;
}

static int
body_key(const uint8_t shared[32], const uint8_t eph_pub[32],
    const uint8_t box_pub[32], uint8_t key[32])
{
	uint8_t salt[64];

	memcpy(salt, eph_pub, 32);
	memcpy(salt + 32, box_pub, 32);
	return crypt_hkdf(shared, 32, salt, 64, "amber v1 snapshot", key, 32);
}

int
snap_make(const struct keyring *kr, const struct store_snap_new *sn,
    const struct store_entry *root, const uint8_t (*parents)[32],
    size_t n_parents, uint8_t **out, size_t *len)
{
	struct wb body = { 0 };
	struct wb obj = { 0 };
	uint8_t eph[32];
	uint8_t eph_pub[32];
	uint8_t shared[32];
	uint8_t key[32];
	uint8_t nonce[12];
	size_t head;
	int r;

	if (n_parents > SNAP_MAX_PARENTS)
		return -EINVAL;
	if ((r = body_encode(sn, root, &body)) < 0)
		goto out;
	if ((r = crypt_random(eph, 32)) < 0 ||
	    (r = crypt_random(nonce, 12)) < 0 ||
	    (r = crypt_x25519_pub(eph, eph_pub)) < 0 ||
	    (r = crypt_x25519(eph, kr->box_pub, shared)) < 0 ||
	    (r = body_key(shared, eph_pub, kr->box_pub, key)) < 0)
		goto out;
	if ((r = wb_bytes(&obj, SNAP_MAGIC, 8)) < 0 ||
	    (r = wb_bytes(&obj, kr->key_id, 16)) < 0 ||
	    (r = wb_u16(&obj, n_parents)) < 0)
		goto out;
	for (size_t i = 0; i < n_parents; i++)
		if ((r = wb_bytes(&obj, parents[i], 32)) < 0)
			goto out;
	if ((r = wb_bytes(&obj, eph_pub, 32)) < 0 ||
	    (r = wb_bytes(&obj, nonce, 12)) < 0)
		goto out;
	head = obj.len;
	if (head + body.len + 16 + 64 > SNAP_MAX) {
		r = log_err(-EINVAL, "snapshot manifest too large");
		goto out;
	}
	if ((r = wb_reserve(&obj, body.len + 16 + 64)) < 0)
		goto out;
	if ((r = crypt_seal(key, nonce, obj.p, head, body.p, body.len,
	    obj.p + head)) < 0)
		goto out;
	obj.len = head + body.len + 16;
	if ((r = crypt_ed25519_sign(kr->sign_seed, obj.p, obj.len,
	    obj.p + obj.len)) < 0)
		goto out;
	*out = obj.p;
	*len = obj.len + 64;
	obj.p = NULL;
out:
	crypt_wipe(eph, sizeof(eph));
	crypt_wipe(shared, sizeof(shared));
	crypt_wipe(key, sizeof(key));
	if (body.p != NULL)
		crypt_wipe(body.p, body.len);
	wb_fini(&body);
	wb_fini(&obj);
	return r;
}

int
snap_header(const uint8_t *buf, size_t len, const uint8_t **writer,
    const uint8_t **parents, size_t *n)
{
	struct rd r = rd_init(buf, len);
	const uint8_t *p;
	uint16_t k;

	if (len > SNAP_MAX || rd_bytes(&r, 8, &p) < 0 ||
	    memcmp(p, SNAP_MAGIC, 8) != 0 || rd_bytes(&r, 16, writer) < 0 ||
	    rd_u16(&r, &k) < 0 || k > SNAP_MAX_PARENTS ||
	    rd_bytes(&r, (size_t)k * 32, parents) < 0 ||
	    r.len < 32 + 12 + 16 + 64)
		return -EBADMSG;
	*n = k;
	return 0;
}

void
snap_free(struct store_snap *s)
{
	if (s == NULL)
		return;
	free(s->host);
	for (size_t i = 0; i < s->n_tags; i++)
		free(s->tags[i]);
	free(s->tags);
	free(s->sources);
	free(s->parents);
	free(s);
}

static char *
dup_str(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

const char *
store_kind_name(uint8_t kind)
{
	switch (kind) {
	case STORE_FILES:
		return "files";
	case STORE_REPOS:
		return "repos";
	case STORE_PIPELINES:
		return "pipelines";
	default:
		return NULL;
	}
}

int
store_source_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > STORE_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
body_decode(const uint8_t *buf, size_t len, struct store_snap *s)
{
	struct rd r = rd_init(buf, len);
	const uint8_t *p;
	size_t n;
	uint16_t k;
	uint8_t v;
	uint32_t flags;

	if (rd_u8(&r, &v) < 0 || v != SNAP_VERSION ||
	    rd_i64(&r, &s->time_sec) < 0 || rd_u32(&r, &s->time_nsec) < 0 ||
	    s->time_nsec >= 1000000000u || rd_u64(&r, &s->commit_ns) < 0 ||
	    rd_str16(&r, 1024, &p, &n) < 0)
		return -EBADMSG;
	if ((s->host = dup_str(p, n)) == NULL)
		return -ENOMEM;
	if (rd_u16(&r, &k) < 0)
		return -EBADMSG;
	if ((s->tags = calloc(k ? k : 1, sizeof(*s->tags))) == NULL)
		return -ENOMEM;
	for (; s->n_tags < k; s->n_tags++) {
		if (rd_str16(&r, 1024, &p, &n) < 0)
			return -EBADMSG;
		if ((s->tags[s->n_tags] = dup_str(p, n)) == NULL)
			return -ENOMEM;
	}
	s->root.type = STORE_DIR;
	s->root.mode = 0555;
	s->root.mtime_sec = s->time_sec;
	s->root.mtime_nsec = s->time_nsec;
	if (rd_copy(&r, &s->root.tree, sizeof(s->root.tree)) < 0 ||
	    rd_u64(&r, &s->root.n_desc) < 0 || rd_u32(&r, &flags) < 0)
		return -EBADMSG;
	if (rd_u16(&r, &k) < 0 || (size_t)k * 40 > r.len)
		return -EBADMSG;
	if ((s->sources = calloc(k ? k : 1, sizeof(*s->sources))) == NULL)
		return -ENOMEM;
	for (; s->n_sources < k; s->n_sources++) {
		struct store_source *src = &s->sources[s->n_sources];
		size_t n_ext;

		if (rd_u8(&r, &src->kind) < 0 || src->kind < STORE_FILES ||
		    src->kind > STORE_PIPELINES ||
		    rd_str16(&r, sizeof(src->origin) - 1, &p, &n) < 0)
			return -EBADMSG;
		memcpy(src->origin, p, n);
		if (rd_u64(&r, &src->n_files) < 0 ||
		    rd_u64(&r, &src->n_bytes) < 0 ||
		    rd_u32(&r, &src->flags) < 0 ||
		    tree_entry_decode(&r, &src->root, NULL, 0, &n_ext) < 0 ||
		    src->root.type != STORE_DIR ||
		    !store_source_name_ok((const char *)src->root.name,
		    src->root.name_len))
			return -EBADMSG;
		memcpy(src->name, src->root.name, src->root.name_len);
		src->root.name = NULL;
		src->root.name_len = 0;
		s->size += src->n_bytes;
		if (src->flags & STORE_SOURCE_PARTIAL)
			s->flags |= STORE_SNAP_PARTIAL;
	}
	if (r.len != 0)
		return -EBADMSG;
	return 0;
}

/*
 * Whether time ${a} is more than STORE_SNAP_SLACK seconds before ${b}.
 * Times come from manifests, any int64: the difference is taken
 * unsigned, where it cannot overflow.
 */
static int
is_before(int64_t a, int64_t b)
{
	return a < b && (uint64_t)b - (uint64_t)a > STORE_SNAP_SLACK;
}

/*
 * The snapshot of the manifest ${buf} (${len} bytes, its header already
 * checked by snap_header()) whose body decrypted to ${body}: decode it,
 * with what the registry says of its writer.
 */
static int
snap_build(const struct registry *reg, const uint8_t *buf, size_t len,
    const uint8_t *body, size_t blen, struct store_snap **out)
{
	static const uint8_t zero[16];
	struct store_snap *s = NULL;
	const struct reg_entry *re = NULL;
	const uint8_t *writer;
	const uint8_t *parents;
	size_t n_parents;
	int r;

	if ((r = snap_header(buf, len, &writer, &parents, &n_parents)) < 0)
		return r;
	if (memcmp(writer, zero, 16) != 0 &&
	    (reg == NULL || (re = registry_find(reg, writer)) == NULL))
		return -EBADMSG;	/* an unregistered writer */
	r = -ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->parents = calloc(n_parents ? n_parents : 1, 32)) == NULL)
		goto out;
	if ((r = body_decode(body, blen, s)) < 0)
		goto out;
	memcpy(s->parents, parents, n_parents * 32);
	s->n_parents = n_parents;
	memcpy(s->writer, writer, 16);
	crypt_sha256(buf, len, s->id);
	if (re != NULL) {
		snprintf(s->writer_label, sizeof(s->writer_label), "%s",
		    re->label);
		s->is_writer_revoked = re->is_revoked;
		/* The registration's time is the master's word: no snapshot
		 * of the key can be older. */
		if (is_before(s->time_sec, re->created))
			s->flags |= STORE_SNAP_BEFORE_KEY;
	}
	if (re != NULL && re->is_revoked) {
		int ok = 0;

		for (size_t i = 0; i < re->n_accepted; i++)
			if (memcmp(re->accepted[i], s->id, 32) == 0)
				ok = 1;
		if (!ok)
			s->flags |= STORE_SNAP_REVOKED;
	}
	*out = s;
	s = NULL;
out:
	snap_free(s);
	return r;
}

int
snap_open_body(const struct keyring *kr, const struct registry *reg,
    const uint8_t *buf, size_t len, struct store_snap **out,
    uint8_t **body_out, size_t *blen_out)
{
	static const uint8_t zero[16];
	const struct reg_entry *re;
	const uint8_t *writer;
	const uint8_t *parents;
	const uint8_t *pub;
	uint8_t *body = NULL;
	uint8_t shared[32];
	uint8_t key[32];
	size_t n_parents;
	size_t head;
	size_t blen = 0;
	int r;

	if (!kr->has_master)
		return -EACCES;
	if ((r = snap_header(buf, len, &writer, &parents, &n_parents)) < 0)
		return r;
	head = (size_t)(parents - buf) + n_parents * 32 + 32 + 12;
	/* The signature first: nothing unsigned is decrypted. */
	if (memcmp(writer, zero, 16) == 0) {
		pub = kr->master_sign_pub;
	} else if (reg != NULL && (re = registry_find(reg, writer)) != NULL) {
		pub = re->sign_pub;
	} else {
		return -EBADMSG;	/* an unregistered writer */
	}
	if ((r = crypt_ed25519_verify(pub, buf, len - 64, buf + len - 64)) < 0)
		return r;
	blen = len - 64 - head - 16;
	if ((r = crypt_x25519(kr->box_priv, buf + head - 44, shared)) < 0 ||
	    (r = body_key(shared, buf + head - 44, kr->box_pub, key)) < 0)
		goto out;
	r = -ENOMEM;
	if ((body = malloc(blen + 1)) == NULL)
		goto out;
	if ((r = crypt_open(key, buf + head - 12, buf, head, buf + head,
	    blen + 16, body)) < 0)
		goto out;
	if ((r = snap_build(reg, buf, len, body, blen, out)) < 0)
		goto out;
	if (body_out != NULL) {
		*body_out = body;
		*blen_out = blen;
		body = NULL;
	}
out:
	crypt_wipe(shared, sizeof(shared));
	crypt_wipe(key, sizeof(key));
	if (body != NULL)
		crypt_wipe(body, blen);
	free(body);
	return r;
}

int
snap_open(const struct keyring *kr, const struct registry *reg,
    const uint8_t *buf, size_t len, struct store_snap **out)
{
	return snap_open_body(kr, reg, buf, len, out, NULL, NULL);
}

int
snap_from_body(const struct registry *reg, const uint8_t *buf, size_t len,
    const uint8_t *body, size_t blen, struct store_snap **out)
{
	return snap_build(reg, buf, len, body, blen, out);
}

/*
 * The order of snapshots (amber-store(5), SNAPSHOTS): by second, then
 * trusted before untrusted, then depth in the DAG, then commit time.
 */
struct ord {
	struct store_snap_ord *s;
	size_t depth;
};

static int
ord_cmp(const void *a, const void *b)
{
	const struct ord *x = a;
	const struct ord *y = b;
	int ux = (x->s->flags & STORE_SNAP_UNTRUSTED) != 0;
	int uy = (y->s->flags & STORE_SNAP_UNTRUSTED) != 0;

	if (x->s->time_sec != y->s->time_sec)
		return x->s->time_sec < y->s->time_sec ? -1 : 1;
	/* A writer chooses its time, parents and commit time, but cannot
	 * make its snapshot trusted: an untrusted one never takes a name
	 * from a trusted one of the same second. */
	if (ux != uy)
		return ux - uy;
	/* Parents first: one that names the current heads (as every
	 * honest writer does) is a descendant of every snapshot already
	 * there, and comes after them. */
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	/* Siblings in one second: in the order they were committed, so
	 * that a name once shown never changes (unless the clocks of two
	 * hosts committing within the same instant disagree). */
	if (x->s->commit_ns != y->s->commit_ns)
		return x->s->commit_ns < y->s->commit_ns ? -1 : 1;
	return memcmp(x->s->id, y->s->id, 32);
}

static int
id_cmp(const void *a, const void *b)
{
	const struct ord *x = a;
	const struct ord *y = b;

	return memcmp(x->s->id, y->s->id, 32);
}

static struct ord *
ord_find(struct ord *v, size_t n, const uint8_t id[32])
{
	size_t lo = 0;
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v[mid].s->id, id, 32);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Set every depth in ${o} (sorted by id): the longest path from a root,
 * by a depth-first walk up the parents that finishes each snapshot after
 * its parents, so each edge is followed once.  An edge back to a snapshot
 * still being walked (a cycle, which hash ids make impossible but a
 * hostile index could feign) is ignored.
 */
static int
ord_depths(struct ord *o, size_t n)
{
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack));
	size_t *next = calloc(n ? n : 1, sizeof(*next));
	uint8_t *state = calloc(n ? n : 1, 1);	/* 1: walking, 2: done */
	size_t sp = 0;
	int r = -ENOMEM;

	if (stack == NULL || next == NULL || state == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (state[i] != 0)
			continue;
		state[i] = 1;
		stack[sp++] = i;
		while (sp > 0) {
			size_t x = stack[sp - 1];
			struct ord *p;

			if (next[x] < o[x].s->n_parents) {
				p = ord_find(o, n, o[x].s->parents[next[x]++]);
				if (p == NULL)
					continue;
				if (state[p - o] == 0) {
					state[p - o] = 1;
					stack[sp++] = (size_t)(p - o);
				} else if (state[p - o] == 2 &&
				    p->depth + 1 > o[x].depth) {
					o[x].depth = p->depth + 1;
				}
				continue;
			}
			/* Done: the snapshot below it on the stack is the
			 * child that went up to it. */
			state[x] = 2;
			sp--;
			if (sp > 0 && o[x].depth + 1 > o[stack[sp - 1]].depth)
				o[stack[sp - 1]].depth = o[x].depth + 1;
		}
	}
	r = 0;
out:
	free(stack);
	free(next);
	free(state);
	return r;
}

/*
 * The derived flags of every snapshot (store.h; amber-store(5), SECURITY
 * CONSIDERATIONS), before sorting since the order depends on them.  ${o}
 * is sorted by id.
 */
static void
ord_flags(struct ord *o, size_t n, int64_t now, const struct idset *expired)
{
	size_t n_roots = 0;

	for (size_t i = 0; i < n; i++) {
		struct store_snap_ord *s = o[i].s;
		int64_t commit_sec = (int64_t)(s->commit_ns / 1000000000u);
		size_t n_found = 0;

		if (is_before(now, s->time_sec))
			s->flags |= STORE_SNAP_FUTURE;
		for (size_t j = 0; j < s->n_parents; j++) {
			struct ord *p = ord_find(o, n, s->parents[j]);

			if (p == NULL) {
				/* Expired under the signed policy
				 * (amber-store(5), PRUNING): a parent it
				 * had, not a missing one. */
				if (expired != NULL &&
				    idset_has(expired, s->parents[j]))
					n_found++;
				else
					s->flags |= STORE_SNAP_ORPHAN;
				continue;
			}
			n_found++;
			/*
			 * The master is trusted with its times: it imports
			 * old data with --time.  A parent dated after this
			 * snapshot says it committed is no honest parent
			 * (one commits before its children, and is dated
			 * before it commits): its writer lied, not this
			 * one, which is not blamed; else one snapshot dated
			 * in the future would flag all that follow it.
			 */
			if (!s->is_master &&
			    is_before(s->time_sec, p->s->time_sec) &&
			    !is_before(commit_sec, p->s->time_sec))
				s->flags |= STORE_SNAP_BEFORE_PARENT;
		}
		if (n_found == 0)
			n_roots++;
	}
	/*
	 * A snapshot with no parent here was made (if honest) when the store
	 * held no snapshot.  Nothing a fresh machine reads says when an
	 * ingest key's snapshot was made, so of several such snapshots none
	 * by an ingest key can be told to be the first: all of them are
	 * flagged.
	 */
	if (n_roots < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		struct store_snap_ord *s = o[i].s;
		size_t j;

		if (s->is_master)
			continue;
		for (j = 0; j < s->n_parents; j++)
			if (ord_find(o, n, s->parents[j]) != NULL ||
			    (expired != NULL &&
			    idset_has(expired, s->parents[j])))
				break;
		if (j == s->n_parents)
			s->flags |= STORE_SNAP_PARENTLESS;
	}
}

/* Name ${s} by its second and its place ${k} in it (1, 2, ...). */
static void
name_make(struct store_snap_ord *s, size_t k)
{
	store_time_format(s->time_sec, s->name, STORE_SNAP_NAME_LEN);
	if (k > 1) {
		size_t l = strlen(s->name);

		snprintf(s->name + l, STORE_SNAP_NAME_LEN - l, "-%zu", k);
	}
}

int
store_snap_order(struct store_snap_ord **v, size_t n, int64_t now)
{
	return snap_order_expired(v, n, now, NULL);
}

int
store_snap_order_in(struct store *s, struct store_snap_ord **v, size_t n,
    int64_t now)
{
	struct idset expired = { NULL, 0, 0 };
	int r;

	/* Without the records, parents show missing: never less damage. */
	if ((r = prune_expired_set(s, &expired)) != -ENOMEM)
		r = snap_order_expired(v, n, now, &expired);
	idset_fini(&expired);
	return r;
}

int
snap_order_expired(struct store_snap_ord **v, size_t n, int64_t now,
    const struct idset *expired)
{
	struct ord *o = calloc(n ? n : 1, sizeof(*o));

	if (o == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		o[i].s = v[i];
	qsort(o, n, sizeof(*o), id_cmp);
	if (ord_depths(o, n) < 0) {
		free(o);
		return -ENOMEM;
	}
	ord_flags(o, n, now, expired);
	qsort(o, n, sizeof(*o), ord_cmp);
	for (size_t i = 0, k = 0; i < n; i++) {
		/* ${k}: the place of this snapshot in its second */
		k = i > 0 && o[i - 1].s->time_sec == o[i].s->time_sec ?
		    k + 1 : 1;
		v[i] = o[i].s;
		name_make(v[i], k);
	}
	free(o);
	return 0;
}

/* The index table of the names shown: snapshot id -> name (no NUL). */
#define NAMES_TABLE "snapname"

/*
 * The place ${name} (${len} bytes, from the index) gives a snapshot of
 * second ${sec}: 1 for the bare time, k for "-k"; 0 if it is no name of
 * that second.
 */
static size_t
name_place(const char *name, size_t len, int64_t sec)
{
	char base[STORE_SNAP_NAME_LEN];
	size_t bl;
	size_t k = 0;

	store_time_format(sec, base, sizeof(base));
	bl = strlen(base);
	if (len < bl || memcmp(name, base, bl) != 0)
		return 0;
	if (len == bl)
		return 1;
	if (name[bl] != '-' || len - bl - 1 > 9 || name[bl + 1] == '0')
		return 0;
	for (size_t i = bl + 1; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		k = k * 10 + (size_t)(name[i] - '0');
	}
	return k >= 2 ? k : 0;
}

/*
 * Name the snapshots ${v}[${g}..${e}) of one second: those with a place
 * in ${place} keep it, the others take the lowest places left, in the
 * order of ${v}.  A place remembered twice (two listings at once that saw
 * different snapshots) stays with the first of the two.
 */
static int
names_second(struct store_snap_ord **v, size_t g, size_t e, size_t *place)
{
	size_t gn = e - g;
	uint8_t *used = calloc(gn + 1, 1);
	size_t next = 1;

	if (used == NULL)
		return -ENOMEM;
	for (size_t i = g; i < e; i++) {
		if (place[i] == 0)
			continue;
		if (place[i] <= gn) {
			if (used[place[i]])
				place[i] = 0;
			else
				used[place[i]] = 1;
			continue;
		}
		/* beyond the second's count: snapshots since expired */
		for (size_t j = g; j < i; j++)
			if (place[j] == place[i])
				place[i] = 0;
	}
	for (size_t i = g; i < e; i++) {
		if (place[i] == 0) {
			while (used[next])
				next++;
			place[i] = next;
			used[next] = 1;
		}
		name_make(v[i], place[i]);
	}
	free(used);
	return 0;
}

int
store_snap_names_keep(struct store *s, struct store_snap_ord **v, size_t n)
{
	struct index_kv *kv = NULL;
	size_t *place = NULL;
	uint8_t *was = NULL;
	size_t n_kv = 0;
	int r = -ENOMEM;

	if (s->ix == NULL || n == 0)
		return 0;
	if ((place = calloc(n, sizeof(*place))) == NULL ||
	    (was = calloc(n, 1)) == NULL ||
	    (kv = calloc(n, sizeof(*kv))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		void *val;
		size_t len;

		/* Not found, or unreadable: a name is made as on a new
		 * machine. */
		if (index_cache_get(s->ix, NAMES_TABLE, v[i]->id,
		    STORE_HASH_LEN, &val, &len) == 0) {
			place[i] = name_place(val, len, v[i]->time_sec);
			free(val);
		}
		was[i] = place[i] != 0;
	}
	for (size_t g = 0, e; g < n; g = e) {
		for (e = g + 1; e < n && v[e]->time_sec == v[g]->time_sec; e++)
			;
		if ((r = names_second(v, g, e, place)) < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (was[i] || (v[i]->flags & STORE_SNAP_UNTRUSTED))
			continue;
		kv[n_kv].key = v[i]->id;
		kv[n_kv].klen = STORE_HASH_LEN;
		kv[n_kv].val = v[i]->name;
		kv[n_kv].vlen = strlen(v[i]->name);
		n_kv++;
	}
	/* Not remembered (a read-only index): the names shown stay those
	 * a new machine would show. */
	(void)index_cache_put_all(s->ix, NAMES_TABLE, kv, n_kv, 1);
	r = 0;
out:
	free(kv);
	free(was);
	free(place);
	return r;
}

int
snap_order(struct store *st, struct store_snap **v, size_t n, int64_t now)
{
	struct store_snap_ord *o = calloc(n ? n : 1, sizeof(*o));
	struct store_snap_ord **pv = calloc(n ? n : 1, sizeof(*pv));
	struct store_snap **old = calloc(n ? n : 1, sizeof(*old));
	struct idset expired = { NULL, 0, 0 };
	int r = -ENOMEM;

	if (o == NULL || pv == NULL || old == NULL)
		goto out;
	/* Without the records (a listing failed), missing parents are
	 * reported as missing: more damage shown, never less. */
	if ((r = prune_expired_set(st, &expired)) == -ENOMEM)
		goto out;
	for (size_t i = 0; i < n; i++) {
		o[i].id = v[i]->id;
		o[i].time_sec = v[i]->time_sec;
		o[i].commit_ns = v[i]->commit_ns;
		o[i].n_parents = v[i]->n_parents;
		o[i].parents = (const uint8_t (*)[32])v[i]->parents;
		o[i].is_master = store_snap_is_master(v[i]);
		o[i].flags = v[i]->flags;
		o[i].name = v[i]->name;
		pv[i] = &o[i];
		old[i] = v[i];
	}
	if ((r = snap_order_expired(pv, n, now, &expired)) < 0 ||
	    (r = store_snap_names_keep(st, pv, n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		v[i] = old[pv[i] - o];
		v[i]->flags = pv[i]->flags;
	}
out:
	idset_fini(&expired);
	free(o);
	free(pv);
	free(old);
	return r;
}

void
store_time_format(int64_t sec, char *buf, size_t cap)
{
	struct tm tm;
	time_t t = (time_t)sec;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)sec);
}

static int
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

int
store_time_parse(const char *s, int64_t *sec, uint32_t *nsec)
{
	struct tm tm = { 0 };
	const char *p = s;
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	uint32_t ns = 0;
	int64_t off = 0;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || (*p != 'T' && *p != 't' &&
	    *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &se))
		return -EINVAL;
	if (*p == '.') {
		int k = 0;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, k++)
			if (k < 9)
				ns = ns * 10 + (uint32_t)(*p - '0');
		for (; k < 9; k++)
			ns *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*sec = (int64_t)t - off;
	*nsec = ns;
	return 0;
}
