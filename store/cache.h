/*
 * cache.h: a bounded LRU cache of decrypted chunks, keyed by chunk key
 * (the ${id} arguments below).  Not by chunk id: a rogue tree may name a
 * real chunk's id with a wrong key, and must not be given that chunk's
 * bytes from the cache, where reading the store would have failed.  The
 * key is what the reader checked the plaintext against (it is computed
 * from the plaintext, amber-store(5)), so one key names one plaintext.
 * Thread-safe; callers copy out under the cache's lock, or pin an entry,
 * which keeps it alive (though perhaps evicted) until unpinned, so no
 * entry is ever used after it is freed.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

/* A cache holding at most ${cap} bytes of chunk data (0: disabled). */
int cache_new(size_t cap, struct cache **out);
void cache_free(struct cache *c);

/*
 * cache_read(c, id, off, buf, len, got): copy up to ${len} bytes at ${off}
 * of cached chunk ${id}; -ENOENT on a miss.  *${got} may be short only at
 * the chunk's end.
 */
int cache_read(struct cache *c, const uint8_t id[32], size_t off,
    uint8_t *buf, size_t len, size_t *got);

/*
 * cache_read_or_claim(c, id, off, buf, len, got): as cache_read(), but on
 * a miss either claim the chunk (-EAGAIN: the caller loads it and must
 * then call cache_insert() or cache_abandon()), or, when another thread
 * has claimed it, wait for that thread and read what it inserted.  So
 * parallel reads of one chunk (the kernel's read-ahead) decrypt it once.
 */
int cache_read_or_claim(struct cache *c, const uint8_t id[32], size_t off,
    uint8_t *buf, size_t len, size_t *got);
void cache_abandon(struct cache *c, const uint8_t id[32]);

/*
 * cache_claim(c, id): claim chunk ${id} without waiting or copying, for
 * loading ahead of a reader.  Returns -EAGAIN if the caller now holds
 * the claim (it must call cache_insert() or cache_abandon()); 0 if there
 * is nothing to do (cached, or another thread is loading it); -EBUSY if
 * no claim can be taken now (disabled cache, or too many loads at once):
 * the caller must then not load it, so no chunk is loaded twice.
 */
int cache_claim(struct cache *c, const uint8_t id[32]);

/*
 * cache_pin_or_claim(c, id, data, len): as cache_read_or_claim(), but
 * instead of copying, pin the entry and set *${data} and *${len} to its
 * bytes, valid until cache_unpin(c, *${data}).
 * cache_insert_pin(c, id, data): cache_insert() that returns the entry
 * pinned (${data}, or the entry another thread inserted first, in which
 * case ${data} is freed); an entry the cache cannot keep stays the
 * caller's until it unpins it.  Every pin must be released before
 * cache_free().
 */
int cache_pin_or_claim(struct cache *c, const uint8_t id[32],
    const uint8_t **data, size_t *len);
const uint8_t *cache_insert_pin(struct cache *c, const uint8_t id[32],
    uint8_t *data);
void cache_unpin(struct cache *c, const uint8_t *data);

/* The capacity given to cache_new(). */
size_t cache_cap(const struct cache *c);

/* Insert a copy of ${data} (ignored if too big or present). */
void cache_put(struct cache *c, const uint8_t id[32], const uint8_t *data,
    size_t len);

/*
 * cache_entry_new(len, data), cache_insert(c, id, data),
 * cache_entry_free(data): fill an entry in place and hand it to the
 * cache, saving a copy.  cache_insert takes ownership of ${data} in
 * every case (it frees it when it cannot keep it).
 */
uint8_t *cache_entry_new(size_t len);
void cache_insert(struct cache *c, const uint8_t id[32], uint8_t *data);
void cache_entry_free(uint8_t *data);

#endif
