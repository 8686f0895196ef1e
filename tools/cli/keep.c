/*
 * keep.c: the retention policy applied to a snapshot list (keep.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keep.h"

int
keep_eval(struct store *s, const struct store_snap_list *l,
    struct store_policy *pol, int *has_pol, uint32_t **why)
{
	struct store_keep_in *v = NULL;
	size_t n = store_snap_list_len(l);
	size_t i;
	int r;

	*why = NULL;
	*has_pol = 0;
	memset(pol, 0, sizeof(*pol));
	if ((*why = calloc(n + 1, sizeof(**why))) == NULL)
		return -ENOMEM;
	r = store_policy_get(s, pol);
	if (r == -ENOENT) {
		for (i = 0; i < n; i++)
			(*why)[i] = ~0u;
		return 0;
	}
	if (r < 0)
		goto out;
	*has_pol = 1;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct store_snap *sn = store_snap_list_get(l, i);

		v[i].time = sn->time_sec;
		memcpy(v[i].writer, sn->writer, STORE_ID_LEN);
		v[i].flags = sn->flags;
	}
	r = store_policy_keep(pol, v, n, *why);
out:
	free(v);
	if (r < 0) {
		free(*why);
		*why = NULL;
	}
	return r;
}

void
keep_print(FILE *f, uint32_t why)
{
	const char *name;
	uint32_t rule;
	size_t i;
	int n = 0;

	for (i = 0; (name = store_keep_name(i, &rule)) != NULL; i++)
		if (why & rule)
			fprintf(f, "%s%s", n++ > 0 ? "," : "", name);
	if (n == 0)
		fputc('-', f);
}

void
keep_policy_print(FILE *f, const struct store_policy *p)
{
	if (p->within > 0)
		fprintf(f, "keep-within %llus\n",
		    (unsigned long long)p->within);
	if (p->last > 0)
		fprintf(f, "keep-last %u\n", p->last);
	if (p->hourly > 0)
		fprintf(f, "keep-hourly %u\n", p->hourly);
	if (p->daily > 0)
		fprintf(f, "keep-daily %u\n", p->daily);
	if (p->weekly > 0)
		fprintf(f, "keep-weekly %u\n", p->weekly);
	if (p->monthly > 0)
		fprintf(f, "keep-monthly %u\n", p->monthly);
	if (p->yearly > 0)
		fprintf(f, "keep-yearly %u\n", p->yearly);
}
