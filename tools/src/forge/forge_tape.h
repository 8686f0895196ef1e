/*
 * forge_tape.h: a forge's answers, recorded once and played back once.
 * An organisation run reads each pipelines/NAME source twice: first in
 * the parallel phase, with no store writer, recording every answer of
 * the API on a tape (network only); then in the single-threaded store
 * phase, where forge_http plays the tape back instead of asking again.
 * The reader makes the same requests both times (it sees the same
 * answers and the same previous snapshot), so the snapshot holds what
 * one live read would have stored, whichever thread finished first.
 *
 * A tape is an unlinked temporary file in a directory the caller gives
 * (the store's cache directory), so that what waits between the two
 * phases costs disk, not memory: one descriptor and a stdio buffer per
 * tape.  Its records are this process's own; they are still read with
 * every length checked against the cap the request had.
 */
#ifndef FORGE_TAPE_H
#define FORGE_TAPE_H

#include <stddef.h>

#include "err.h"
#include "http.h"

struct forge_tape;

/*
 * forge_tape_new(dir, out):
 * A new empty tape, recording, in ${dir}.  Returns -errno of mkstemp(3)
 * or -ENOMEM.  The caller frees *${out} with forge_tape_free().
 */
int forge_tape_new(const char *dir, struct forge_tape **out);
void forge_tape_free(struct forge_tape *t);

/*
 * forge_tape_rewind(t):
 * Stop recording and play back from the first record.  A tape whose
 * recording failed (a full disk) plays nothing: every request goes to
 * the network.
 */
void forge_tape_rewind(struct forge_tape *t);

/*
 * forge_tape_put(t, url, max_body, r, err, resp):
 * Record the outcome of one GET of ${url} with cap ${max_body}: the
 * return ${r}, ${err}, and of ${resp} the status, the body and the
 * headers a listing walks by (Link, X-Next-Page).  A failure to write
 * marks the tape failed; nothing is returned.
 */
void forge_tape_put(struct forge_tape *t, const char *url, size_t max_body,
    int r, const struct err *err, const struct http_response *resp);

/*
 * forge_tape_get(t, url, max_body, r, err, resp):
 * The next record, if it is a GET of ${url} with cap ${max_body}: fills
 * *${r}, ${err} and ${resp} (which the caller finis) and returns 1.
 * Else (the end, another request, a damaged record) returns 0, and the
 * tape plays nothing more.  Returns -ENOMEM.
 */
int forge_tape_get(struct forge_tape *t, const char *url, size_t max_body,
    int *r, struct err *err, struct http_response *resp);

#endif
