/*
 * metrics.h: a Prometheus textfile-collector file (the text exposition
 * format, version 0.0.4), built in memory and written atomically, for
 * `amber verify --metrics-file` and `amber ingest --metrics-file`.  The
 * metric names and their meaning are in amber(1), METRICS.
 */
#ifndef METRICS_H
#define METRICS_H

struct metrics;

/* metrics_new(out): an empty set; freed with metrics_free(). */
int metrics_new(struct metrics **out);

/*
 * metrics_put(m, name, type, help, label, value, v):
 * Add the sample ${name}{${label}="${value}"} ${v} (no label when
 * ${label} is NULL).  ${type} ("gauge", "counter") and ${help} (one line
 * of text) are written once per name, from its first sample; samples
 * of one name are written together, in the order they came.  Label
 * values are escaped as the format requires, so any text may be one.
 * Returns -EINVAL if ${name} or ${label} is not a valid Prometheus name
 * or ${help} holds a newline; -ENOMEM.
 */
int metrics_put(struct metrics *m, const char *name, const char *type,
    const char *help, const char *label, const char *value, double v);

/*
 * metrics_check_path(path):
 * Whether ${path} can be written by metrics_write(): its directory
 * exists and is writable, and ${path} is not a directory.  For a check
 * before the work whose figures will go there.  Returns 0 or -errno
 * (-ENOENT, -ENOTDIR, -EACCES, -EISDIR...).
 */
int metrics_check_path(const char *path);

/*
 * metrics_write(m, path):
 * Replace the file ${path} atomically with ${m}: write ${path}.tmp in the
 * same directory (mode 0644; whatever was at ${path}.tmp, a symbolic link
 * included, is removed first, never written through),
 * fsync it, rename it over ${path}, fsync the directory.  A reader sees
 * the old file or the new one, never a part (the collector reads only
 * names ending in .prom, so the .tmp file is never read).  On failure
 * ${path} is left as it was and ${path}.tmp removed.  Returns 0 or
 * -errno.
 */
int metrics_write(const struct metrics *m, const char *path);

void metrics_free(struct metrics *m);

#define METRICS_SCAN_MAX ((long)64 << 20)	/* bytes read of a file */
#define METRICS_LINE_MAX 1024			/* longer lines: skipped */

/*
 * metrics_scan(path, fn, ctx):
 * Read back a file in the text format (one that metrics_write() wrote,
 * or anything else: it is not trusted) and call
 * ${fn}(${ctx}, name, label, value, v) for each sample line of the form
 * NAME V or NAME{LABEL="VALUE"} V, with ${label} and ${value} NULL for
 * the first, ${value} unescaped, and V a finite number.  Comments, other
 * lines, lines longer than METRICS_LINE_MAX and whatever lies past
 * METRICS_SCAN_MAX bytes are skipped.  Stops at the first ${fn} that
 * returns non-zero, and returns that; else 0, or -errno if ${path}
 * cannot be read (-ENOENT when there is none).
 */
int metrics_scan(const char *path, int (*fn)(void *ctx, const char *name,
    const char *label, const char *value, double v), void *ctx);

#endif
