/*
 * err.h: the one carrier of a failure's context in tools/ (the error
 * convention is at the top of cli.h).  A helper returns -errno; where the
 * code alone cannot say what went wrong (which line of a sources file,
 * which HTTP request), it also fills a struct err its caller supplies,
 * and the caller that reports the failure prints err.msg.
 */
#ifndef ERR_H
#define ERR_H

#define ERR_MSG_LEN 512

struct err {
	long status;		/* the peer's own status (HTTP), or 0 */
	char msg[ERR_MSG_LEN];	/* one line, no newline; "" if none */
};

#endif
