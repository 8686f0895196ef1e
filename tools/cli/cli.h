/*
 * cli.h: helpers every `amber` subcommand shares: the common long
 * options, passphrases, opening and unlocking a store with one clear
 * error line, the exit-status table, SNAPSHOT:PATH parsing and stored
 * names (raw bytes) in JSON.
 *
 * The error convention of tools/, which every file here follows:
 *
 *  - A command (cmd_<name>(), cmd.h) and the few helpers that finish its
 *    work and say so (cli_open(), cli_find(), ingest_run()) print their
 *    own one-line message and return an exit status, CLI_EXIT_* below,
 *    and nothing else.  --help is a flag (cli_common.is_help), not a
 *    return value.
 *  - Every other function returns 0 or a negative errno, with the
 *    meanings of store.h (-ENOENT absent, -EBADMSG damaged or malformed,
 *    -EIO backend or transport, -EACCES the store's wrong key or missing
 *    rights, -ENOMEM...), and prints nothing, except a source reader's
 *    warnings (src_warn(), source.h).  cli_strerror() words the code and
 *    cli_exit_status() maps it to an exit status, at the one place that
 *    reports it.
 *  - A forge that refuses its token (HTTP 401 or 403) is -FORGE_ETOKEN
 *    (forge_http.h), never -EACCES: a refused token is not a wrong key.
 *  - Where the code alone cannot say what went wrong (the line of a
 *    sources file, the HTTP request and the forge's words), the helper
 *    also fills the struct err (err.h) its caller passes.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "name.h"
#include "store.h"

/* Exit statuses: the table of amber(1), EXIT STATUS. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_PARTIAL 3
#define CLI_EXIT_KEY 4
#define CLI_EXIT_DAMAGE 5

/* Options every command accepts (some commands ignore some of them). */
struct cli_common {
	const char *passphrase_file;	/* --passphrase-file F */
	const char *key_file;		/* --key-file F */
	const char *index_dir;		/* --index-dir D */
	int is_json;			/* --json */
	int is_quiet;			/* -q, --quiet */
	int is_help;			/* -h, --help */
	/* --s3-endpoint URL, and (CLI_S3_...) --s3-credentials F,
	 * --s3-virtual-host, --insecure-http */
	struct store_s3_opts s3;
	int no_index_update;		/* set by commands, not an option */
	const char *key_id;		/* --key-id HEX */
	int is_verbose;			/* --verbose */
	size_t uploads;			/* --uploads N (ingest); 0: default */
};

/* getopt_long values of the common options without a short form. */
enum {
	CLI_OPT_PASSPHRASE_FILE = 0x1000,
	CLI_OPT_KEY_FILE,
	CLI_OPT_INDEX_DIR,
	CLI_OPT_S3_ENDPOINT,
	CLI_OPT_JSON,
	CLI_OPT_S3_CREDENTIALS,
	CLI_OPT_S3_VIRTUAL_HOST,
	CLI_OPT_S3_INSECURE_HTTP,
	CLI_OPT_KEY_ID,
	CLI_OPT_VERBOSE,
	CLI_OPT_FIRST_PRIVATE = 0x1100	/* commands number theirs from here */
};

/*
 * CLI_COMMON_LONGOPTS: the struct option entries of the common options,
 * to put first in a command's table (which must end with {0}).  Add
 * CLI_COMMON_SHORTOPTS ("hq") to the command's short option string.
 */
#define CLI_COMMON_LONGOPTS						\
	{ "passphrase-file", required_argument, NULL,			\
	    CLI_OPT_PASSPHRASE_FILE },					\
	{ "key-file", required_argument, NULL, CLI_OPT_KEY_FILE },	\
	{ "index-dir", required_argument, NULL, CLI_OPT_INDEX_DIR },	\
	{ "s3-endpoint", required_argument, NULL, CLI_OPT_S3_ENDPOINT }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON },			\
	{ "key-id", required_argument, NULL, CLI_OPT_KEY_ID },		\
	{ "verbose", no_argument, NULL, CLI_OPT_VERBOSE },		\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "help", no_argument, NULL, 'h' }
#define CLI_COMMON_SHORTOPTS "hq"

/*
 * CLI_S3_LONGOPTS: --s3-credentials F, --s3-virtual-host and
 * --insecure-http, which
 * cli_common_opt() records too; a command that opens stores puts them
 * after CLI_COMMON_LONGOPTS (they are apart so that a command with its
 * own handling of these names keeps it).  CLI_S3_HELP is their text.
 */
#define CLI_S3_LONGOPTS							\
	{ "s3-credentials", required_argument, NULL,			\
	    CLI_OPT_S3_CREDENTIALS },					\
	{ "s3-virtual-host", no_argument, NULL, CLI_OPT_S3_VIRTUAL_HOST }, \
	{ "insecure-http", no_argument, NULL, CLI_OPT_S3_INSECURE_HTTP }
#define CLI_S3_HELP							\
	"  --s3-credentials F   AWS-style key=value credentials for s3://\n" \
	"  --s3-virtual-host    virtual-host-style S3 addressing\n"	\
	"  --insecure-http      allow an http:// S3 endpoint off loopback\n"

/* Usage text of the common options, for --help. */
#define CLI_COMMON_HELP							\
	"  --passphrase-file F  read the passphrase from F\n"		\
	"  --key-file F         use the key file F instead of a passphrase\n" \
	"  --key-id HEX         unlock with that key object only\n"	\
	"  --verbose            say how the store was unlocked\n"	\
	"  --index-dir D        keep the index in D\n"			\
	"  --s3-endpoint URL    S3 endpoint for s3:// stores\n"		\
	"  -q, --quiet          no progress or summary on stderr\n"	\
	"  -h, --help           show this help\n"

/*
 * cli_common_opt(c, opt, arg):
 * Record the common option ${opt} (a getopt_long return value) with its
 * argument ${arg} in ${c}.  Returns 1 if ${opt} was a common option, 0 if
 * it is the command's own business.
 */
int cli_common_opt(struct cli_common *c, int opt, const char *arg);

/*
 * cli_getopt(argc, argv, longopts, c):
 * getopt_long() over ${longopts} and the common short options, with the
 * common options recorded in ${c} (cli_common_opt()): returns the next
 * option that is the command's own (or '?'), and -1 at the end.
 */
int cli_getopt(int argc, char **argv, const struct option *longopts,
    struct cli_common *c);

/*
 * cli_getopt_reset():
 * Reset getopt_long() for a fresh parse; a command calls it before
 * parsing.  main() passes commands an argv whose argv[0] is "amber CMD",
 * so getopt's own messages name the command.
 */
void cli_getopt_reset(void);

/*
 * cli_usage(cmd, usage, is_error):
 * Print ${usage} (the command's help text, beginning with "usage: ...")
 * to stdout when ${is_error} is 0 and return CLI_EXIT_OK, else print a
 * short hint to stderr and return CLI_EXIT_USAGE.
 */
int cli_usage(const char *cmd, const char *usage, int is_error);

/*
 * cli_args(cmd, c, usage, argc, n_args):
 * What follows a command's option loop: --help prints ${usage}, and any
 * number of operands but ${n_args} is a usage error.  Returns the exit
 * status to end with, or -1 to go on.
 */
int cli_args(const char *cmd, const struct cli_common *c, const char *usage,
    int argc, int n_args);

/*
 * cli_parse(argc, argv, longopts, usage, n_args, c):
 * The whole option parsing of a command with no options of its own:
 * zero ${c}, take the common options (cli_getopt()), then cli_args().
 * Any other option is a usage error.  Returns the exit status to end
 * with, or -1 to go on with the operands at argv[optind].
 */
int cli_parse(int argc, char **argv, const struct option *longopts,
    const char *usage, int n_args, struct cli_common *c);

/*
 * cli_flush(cmd, r):
 * The exit status of a command that ends with ${r}: a failure to flush
 * stdout turns success into CLI_EXIT_ERROR, and is said.
 */
int cli_flush(const char *cmd, int r);

/* cli_err(cmd, fmt, ...): print "amber CMD: message\n" on stderr. */
void cli_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_warn(cmd, fmt, ...): print "amber CMD: warning: message\n". */
void cli_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * cli_strerror(r): a short message for the negative errno ${r}, worded for
 * store operations ("damaged (authentication failed)" for -EBADMSG,
 * "wrong passphrase or key" for -EACCES, "the forge refused the token" for
 * -FORGE_ETOKEN...).
 */
const char *cli_strerror(int r);

/*
 * cli_exit_status(r):
 * The exit status for the negative errno ${r}: CLI_EXIT_KEY for -EACCES
 * and -EPERM (wrong key or lacking rights), else CLI_EXIT_ERROR.  0 gives
 * CLI_EXIT_OK.
 */
int cli_exit_status(int r);

/*
 * cli_store_opts(c, o):
 * Fill ${o} from ${c}'s common options: the index directory, the S3
 * options, --key-id and whether to leave the index as it is; the rest 0.
 */
void cli_store_opts(const struct cli_common *c, struct store_opts *o);

/*
 * cli_open(cmd, location, c, do_unlock, out):
 * Open the store at ${location} with ${c}'s options and, if ${do_unlock},
 * unlock it with the key file ${c}->key_file if given, else with the
 * passphrase (pass_get(), pass.h).  On failure prints
 * one line ("amber ls: /path: no amber store here", "amber ls: wrong
 * passphrase") and returns the exit status to use; returns 0 and sets
 * *${out} (the caller's, for store_close()) on success.
 */
int cli_open(const char *cmd, const char *location,
    const struct cli_common *c, int do_unlock, struct store **out);

/*
 * cli_split_spec(arg, snap, path):
 * Split "SNAPSHOT[:PATH]" into a malloc'd snapshot spec *${snap} and a
 * pointer *${path} into ${arg} (the empty string when there is no PATH).
 * A snapshot name (YYYY-MM-DDTHH:MM:SSZ[-N]) at the start of ${arg} is
 * taken whole, colons and all; otherwise the spec ends at the first
 * colon.  Leading and trailing slashes of PATH are dropped, and runs of
 * slashes are folded and "." components dropped, so "files/a//./b/" is
 * "files/a/b"; a ".." component, or an empty SNAPSHOT, gives -EINVAL.
 * *${path} is malloc'd too.  Returns -ENOMEM, -EINVAL, or 0.
 */
int cli_split_spec(const char *arg, char **snap, char **path);

/* What cli_find() resolved; cli_found_free() frees it. */
struct cli_found {
	struct store_snap_list *list;	/* the store's snapshots */
	const struct store_snap *snap;	/* borrowed from list */
	struct store_tree *parent;	/* the tree holding entry; NULL: root */
	const struct store_entry *entry;	/* in parent, or snap's root */
	char *path;			/* PATH as cli_split_spec() gives it */
};

/*
 * cli_find(cmd, s, arg, out):
 * Resolve "SNAPSHOT[:PATH]" in the open, unlocked store ${s}: the
 * snapshot list is read into ${out}->list, ${out}->snap borrowed from
 * it, and the entry is ${out}->entry: either borrowed from the tree
 * ${out}->parent, or, for the empty PATH, the snapshot's root with
 * ${out}->parent NULL.  The caller frees ${out} with cli_found_free(),
 * whatever the outcome.  Prints one line on failure and returns the exit
 * status to use, or 0.
 */
int cli_find(const char *cmd, struct store *s, const char *arg,
    struct cli_found *out);

/* cli_found_free(f): free what ${f} holds (not ${f}); NULLs it. */
void cli_found_free(struct cli_found *f);

/*
 * cli_json_bytes(o, key, buf, len):
 * Set ${key} of the JSON object ${o} to the raw bytes ${buf}: as a string
 * when they are valid UTF-8; otherwise as a string with U+FFFD for each
 * invalid byte, and "${key}_hex" holding the exact bytes in hex.
 * Returns 0 or -ENOMEM.
 */
int cli_json_bytes(json_t *o, const char *key, const uint8_t *buf,
    size_t len);

/* cli_type_char(type): 'd', '-', 'l', 'p', 'c', 'b', 's', or '?'. */
char cli_type_char(uint8_t type);

/* cli_type_name(type): "dir", "file", "symlink", "fifo", ... */
const char *cli_type_name(uint8_t type);

/* cli_size_human(n, buf, cap): "1.5 MiB" style sizes, for humans. */
void cli_size_human(uint64_t n, char *buf, size_t cap);

/*
 * cli_kdf_parse(arg, kdf):
 * Parse "log2n=N,r=R,p=P" (any subset, any order) into ${kdf}, leaving
 * the others as they are.  Returns -EINVAL if malformed or out of range
 * (log2n 1..40, r and p 1..2^20, r * p < 2^30).
 */
int cli_kdf_parse(const char *arg, struct store_kdf *kdf);

/*
 * cli_u64_parse(arg, max, out): a decimal number without sign or
 * garbage, at most ${max}.  Returns -EINVAL otherwise.
 */
int cli_u64_parse(const char *arg, uint64_t max, uint64_t *out);

/*
 * cli_log(level, msg): the store_log_set() callback main() installs:
 * "amber: MSG" on stderr.
 */
void cli_log(int level, const char *msg);

/* cli_tag_ok(t): 1 if ${t} is a valid tag (1-255 printable bytes). */
int cli_tag_ok(const char *t);

/*
 * cli_raise_fd_limit(): raise the soft limit on open files to the hard
 * one, for commands that walk deep trees (one descriptor per level).
 */
void cli_raise_fd_limit(void);

#endif
