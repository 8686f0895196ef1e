/*
 * snap.h: snapshot manifests (amber-store(5), SNAPSHOTS).  A manifest is
 * "AMBRSNP1" || writer key id(16) || ephemeral X25519 public key(32) ||
 * nonce(12) || AES-256-GCM(sealed body) || tag(16) || Ed25519 signature(64)
 * over everything before it.  The body is sealed to the store's X25519
 * public key, so a host holding only an ingest key can write manifests
 * but not read them.  The snapshot id is the SHA-256 of the whole object,
 * and manifests name their parents by id: a hash DAG.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "store.h"

#define SNAP_MAGIC "AMBRSNP1"
#define SNAP_MAX (4u << 20)	/* a manifest is at most this large */
#define SNAP_VERSION 1
#define SNAP_MAX_PARENTS 1024

/*
 * snap_make(kr, sn, root, parents, n_parents, out, len): encode, seal and
 * sign a manifest; *${out} is malloc'd.
 */
int snap_make(const struct keyring *kr, const struct store_snap_new *sn,
    const struct store_entry *root, const uint8_t (*parents)[32],
    size_t n_parents, uint8_t **out, size_t *len);

/*
 * snap_open(kr, buf, len, out): check the signature, open and decode a
 * manifest into a malloc'd snapshot (freed by snap_free), id included.
 * Returns -EBADMSG if damaged, forged or malformed, -EACCES if ${kr}
 * cannot open manifests.
 */
int snap_open(const struct keyring *kr, const struct registry *reg,
    const uint8_t *buf, size_t len, struct store_snap **out);

/*
 * snap_open_body(kr, reg, buf, len, out, body, blen): snap_open(), and,
 * if ${body} is not NULL, the decrypted body too (*${body} malloc'd,
 * ${blen} bytes; the caller wipes and frees it).
 */
int snap_open_body(const struct keyring *kr, const struct registry *reg,
    const uint8_t *buf, size_t len, struct store_snap **out,
    uint8_t **body, size_t *blen);

/*
 * snap_from_body(reg, buf, len, body, blen, out): the snapshot of the
 * manifest ${buf} given the body snap_open_body() once decrypted from it,
 * without checking the signature or decrypting again: the caller vouches
 * for ${body} (the index's snapshot cache, sealed under a reader's key).
 * What the registry says of the writer (revoked, registered when) is read
 * afresh.  -EBADMSG if either does not decode.
 */
int snap_from_body(const struct registry *reg, const uint8_t *buf,
    size_t len, const uint8_t *body, size_t blen, struct store_snap **out);

/*
 * snap_header(buf, len, writer, parents, n): the signed clear part of a
 * manifest (not authenticated here: callers that need trust use
 * snap_open).  *${parents} points into ${buf}.
 */
int snap_header(const uint8_t *buf, size_t len, const uint8_t **writer,
    const uint8_t **parents, size_t *n);

void snap_free(struct store_snap *s);

/* Flag ${v} (n snapshots; future relative to ${now}), sort and name
 * them: store_snap_order() and store_snap_names_keep() on their ordering
 * fields.  Returns 0, or -ENOMEM (${v} then unsorted and unnamed). */
int snap_order(struct store *s, struct store_snap **v, size_t n,
    int64_t now);

/* store_snap_order(), where a missing parent in ${expired} (may be NULL:
 * none) was expired under the signed policy: no ORPHAN, and it counts
 * as a parent for PARENTLESS (amber-store(5), PRUNING). */
struct idset;
int snap_order_expired(struct store_snap_ord **v, size_t n, int64_t now,
    const struct idset *expired);

#endif
