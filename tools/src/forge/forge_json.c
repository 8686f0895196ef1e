/*
 * forge_json.c: parsing and normalising what forge APIs answer.  JSON
 * goes through jansson (never a hand-written parser); the only text
 * parsed by hand is the Link header and base64, both small and bounded.
 * No I/O here: the fuzz target includes this file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "forge_json.h"
#include "store.h"

int
forge_json_parse(const uint8_t *buf, size_t len, json_t **out)
{
	json_error_t err;
	json_t *j;

	if (len > FORGE_JSON_MAX)
		return -EBADMSG;
	/*
	 * JSON_REJECT_DUPLICATES: two members of one name would make the
	 * stored form depend on which one jansson kept.
	 */
	j = json_loadb((const char *)buf, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (j == NULL)
		return -EBADMSG;
	*out = j;
	return 0;
}

int
forge_json_dump(const json_t *j, char **out, size_t *len)
{
	char *s;
	size_t n;

	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (s == NULL)
		return -EINVAL;
	n = strlen(s);
	if ((*out = realloc(s, n + 2)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*len = n + 1;
	return 0;
}

int
forge_json_id(const json_t *obj, const char *key, uint64_t *id)
{
	json_t *v;
	json_int_t i;

	if (!json_is_object(obj))
		return -EBADMSG;
	if ((v = json_object_get(obj, key)) == NULL || !json_is_integer(v))
		return -EBADMSG;
	if ((i = json_integer_value(v)) < 0)
		return -EBADMSG;
	*id = (uint64_t)i;
	return 0;
}

const char *
forge_json_str(const json_t *obj, const char *key)
{
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	if ((v = json_object_get(obj, key)) == NULL || !json_is_string(v))
		return NULL;
	return json_string_value(v);
}

int
forge_json_items(json_t *page, const char *key, json_t **items)
{
	json_t *a = page;

	if (key != NULL) {
		if (!json_is_object(page))
			return -EBADMSG;
		a = json_object_get(page, key);
	}
	if (a == NULL || !json_is_array(a))
		return -EBADMSG;
	*items = a;
	return 0;
}

/* Members whose values are secrets in hooks and integrations. */
static const char *const secret_keys[] = {
	"token", "secret", "secret_token", "password", "private_key",
	"url_variables", "api_key", "webhook_secret",
};

static int
is_secret_key(const char *k, int names_only)
{
	size_t i;

	for (i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
		if (strcmp(k, secret_keys[i]) == 0)
			return 1;
	return names_only && strcmp(k, "value") == 0;
}

size_t
forge_json_scrub(json_t *j, int names_only)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;
	size_t n = 0;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v) {
			if (is_secret_key(k, names_only)) {
				json_object_del(j, k);
				n++;
			} else
				n += forge_json_scrub(v, names_only);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			n += forge_json_scrub(v, names_only);
	}
	return n;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Whether the parameters of one link value (from after '>' to the next
 * ',' outside quotes, or the end) say rel="next" (or rel=next, or a rel
 * list containing next).  Sets *end to where the parameters stop.
 */
static int
params_say_next(const char *p, const char **end, int *is_next)
{
	*is_next = 0;
	for (;;) {
		const char *name;
		size_t nlen;
		const char *val;
		size_t vlen;

		p = skip_ws(p);
		if (*p == '\0' || *p == ',')
			break;
		if (*p != ';')
			return -EBADMSG;
		p = skip_ws(p + 1);
		name = p;
		while (*p != '\0' && *p != '=' && *p != ';' && *p != ',' &&
		    *p != ' ' && *p != '\t')
			p++;
		nlen = (size_t)(p - name);
		p = skip_ws(p);
		val = NULL;
		vlen = 0;
		if (*p == '=') {
			p = skip_ws(p + 1);
			if (*p == '"') {
				val = ++p;
				while (*p != '\0' && *p != '"')
					p++;
				if (*p != '"')
					return -EBADMSG;
				vlen = (size_t)(p - val);
				p++;
			} else {
				val = p;
				while (*p != '\0' && *p != ';' && *p != ',' &&
				    *p != ' ' && *p != '\t')
					p++;
				vlen = (size_t)(p - val);
			}
		}
		if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 &&
		    val != NULL) {
			/* rel may list several space-separated types. */
			size_t i = 0;

			while (i < vlen) {
				size_t s = i;

				while (i < vlen && val[i] != ' ')
					i++;
				if (i - s == 4 &&
				    strncasecmp(val + s, "next", 4) == 0)
					*is_next = 1;
				while (i < vlen && val[i] == ' ')
					i++;
			}
		}
	}
	*end = p;
	return 0;
}

int
forge_json_link_next(const char *link, char *out, size_t cap)
{
	const char *p = link;

	for (;;) {
		const char *url;
		size_t ulen;
		int is_next;
		int r;

		p = skip_ws(p);
		while (*p == ',')
			p = skip_ws(p + 1);
		if (*p == '\0')
			return -ENOENT;
		if (*p != '<')
			return -EBADMSG;
		url = ++p;
		while (*p != '\0' && *p != '>')
			p++;
		if (*p != '>')
			return -EBADMSG;
		ulen = (size_t)(p - url);
		if ((r = params_say_next(p + 1, &p, &is_next)) < 0)
			return r;
		if (is_next) {
			if (ulen == 0 || memchr(url, ' ', ulen) != NULL)
				return -EBADMSG;
			if (ulen + 1 > cap)
				return -ERANGE;
			memcpy(out, url, ulen);
			out[ulen] = '\0';
			return 0;
		}
	}
}

static int
b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int
forge_json_b64(const char *in, size_t len, uint8_t **out, size_t *olen)
{
	uint8_t *buf;
	uint32_t acc = 0;
	size_t n = 0;
	size_t i;
	int bits = 0;
	int n_pad = 0;
	size_t n_sym = 0;

	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		int v;

		if (in[i] == '\n' || in[i] == '\r')
			continue;
		if (in[i] == '=') {
			n_pad++;
			n_sym++;
			continue;
		}
		if (n_pad > 0 || (v = b64_value(in[i])) < 0)
			goto bad;
		n_sym++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Whole quads only, at most two '=', and no stray bits set. */
	if (n_sym % 4 != 0 || n_pad > 2 || acc != 0)
		goto bad;
	*out = buf;
	*olen = n;
	return 0;
bad:
	free(buf);
	return -EBADMSG;
}

/* The length of the valid UTF-8 sequence at ${p}, or 0 (RFC 3629). */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n;
	size_t i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t
forge_json_utf8_fix(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n_fixed = 0;

	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			*p++ = '?';
			n_fixed++;
		} else
			p += n;
	}
	return n_fixed;
}

int
forge_json_is_safe_path(const char *path)
{
	const char *p = path;

	if (*p == '\0')
		return 0;
	for (;;) {
		const char *s = p;
		size_t n;

		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || n > STORE_NAME_MAX)
			return 0;
		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (*p == '\0')
			return 1;
		p++;
	}
}
