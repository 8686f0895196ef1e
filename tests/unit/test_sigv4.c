/*
 * test_sigv4.c: AWS Signature Version 4 against AWS's published examples.
 *
 * Vectors: the SigV4 test suite of the AWS General Reference (get-vanilla,
 * get-vanilla-query-order-key-case, post-vanilla; credentials AKIDEXAMPLE,
 * 20150830T123600Z, us-east-1, service "service"), and the four examples
 * of the Amazon S3 API Reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk" (GET
 * Object with a range, PUT Object, GET Bucket lifecycle, GET Bucket list;
 * credentials AKIAIOSFODNN7EXAMPLE, 20130524T000000Z).  Where AWS gives
 * an intermediate value (the canonical request's hash in the string to
 * sign, the payload hash), it is checked too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "http.h"
#include "sigv4.h"

static const struct sigv4_creds suite = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL
};
static const struct sigv4_creds s3doc = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL
};

/* The signature part of an Authorization value, or "". */
static const char *
sig_of(const char *auth)
{
	const char *p = strstr(auth, "Signature=");

	return p ? p + 10 : "";
}

static void
test_suite(void)
{
	const char *d = "20150830T123600Z";
	struct sigv4_param h[] = { { "X-Amz-Date", "20150830T123600Z" } };
	struct sigv4_param q[] = { { "Param2", "value2" },
	    { "Param1", "value1" } };
	char auth[SIGV4_AUTH_MAX];
	char creq[4096];
	char hash[SIGV4_HEX_LEN];
	char query[256];

	/* get-vanilla */
	CHECK(sigv4_canonical("GET", "example.amazonaws.com", "/", "", h, 1,
	    SIGV4_EMPTY_SHA256, creq, sizeof(creq)) == 0);
	CHECK(strcmp(creq, "GET\n/\n\nhost:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	    SIGV4_EMPTY_SHA256) == 0);
	sigv4_sha256_hex((const uint8_t *)creq, strlen(creq), hash);
	CHECK(strcmp(hash, "bb579772317eb040ac9ed261061d46c1f17a8133879d6129"
	    "b6e1c25292927e63") == 0);
	CHECK(sigv4_sign(&suite, "us-east-1", "service", d, "GET",
	    "example.amazonaws.com", "/", "", h, 1, SIGV4_EMPTY_SHA256, auth,
	    sizeof(auth)) == 0);
	CHECK(strcmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
	    "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
	    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d"
	    "763fbf31") == 0);

	/* get-vanilla-query-order-key-case */
	CHECK(sigv4_query(q, 2, query, sizeof(query)) == 0);
	CHECK(strcmp(query, "Param1=value1&Param2=value2") == 0);
	CHECK(sigv4_sign(&suite, "us-east-1", "service", d, "GET",
	    "example.amazonaws.com", "/", query, h, 1, SIGV4_EMPTY_SHA256,
	    auth, sizeof(auth)) == 0);
	CHECK(strcmp(sig_of(auth), "b97d918cfa904a5beff61c982a1b6f458b799221"
	    "646efd99d3219ec94cdf2500") == 0);

	/* post-vanilla */
	CHECK(sigv4_sign(&suite, "us-east-1", "service", d, "POST",
	    "example.amazonaws.com", "/", "", h, 1, SIGV4_EMPTY_SHA256, auth,
	    sizeof(auth)) == 0);
	CHECK(strcmp(sig_of(auth), "5da7c1a2acd57cee7505fc6676e4e544621c3086"
	    "2966e37dddb68e92efbe5d6b") == 0);
}

/*
 * An S3 example GET of the bucket (no payload) with the ${n} query
 * parameters ${q}: their canonical form is ${want_query} and the
 * signature ${want_sig}.
 */
static void
check_bucket_get(const struct sigv4_param *q, size_t n,
    const char *want_query, const char *want_sig)
{
	const char *d = "20130524T000000Z";
	struct sigv4_param h[] = {
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
		{ "x-amz-date", d },
	};
	char auth[SIGV4_AUTH_MAX];
	char query[256];

	CHECK(sigv4_query(q, n, query, sizeof(query)) == 0);
	CHECK(strcmp(query, want_query) == 0);
	CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET",
	    "examplebucket.s3.amazonaws.com", "/", query, h, 2,
	    SIGV4_EMPTY_SHA256, auth, sizeof(auth)) == 0);
	CHECK(strcmp(sig_of(auth), want_sig) == 0);
}

static void
test_s3_examples(void)
{
	const char *d = "20130524T000000Z";
	const char *host = "examplebucket.s3.amazonaws.com";
	const char *body = "Welcome to Amazon S3.";
	char auth[SIGV4_AUTH_MAX];
	char creq[4096];
	char hash[SIGV4_HEX_LEN];
	char sts[512];

	/* GET Object, first ten bytes */
	{
		struct sigv4_param h[] = {
			{ "Range", "bytes=0-9" },
			{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
			{ "x-amz-date", d },
		};

		CHECK(sigv4_canonical("GET", host, "/test.txt", "", h, 3,
		    SIGV4_EMPTY_SHA256, creq, sizeof(creq)) == 0);
		sigv4_sha256_hex((const uint8_t *)creq, strlen(creq), hash);
		snprintf(sts, sizeof(sts), "%s", hash);
		CHECK(strcmp(sts, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95"
		    "c48bbb2dc43964946972") == 0);
		CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET", host,
		    "/test.txt", "", h, 3, SIGV4_EMPTY_SHA256, auth,
		    sizeof(auth)) == 0);
		CHECK(strstr(auth, "SignedHeaders=host;range;"
		    "x-amz-content-sha256;x-amz-date,") != NULL);
		CHECK(strcmp(sig_of(auth), "f0e8bdb87c964420e857bd35b5d6ed310b"
		    "d44f0170aba48dd91039c6036bdb41") == 0);
	}

	/* PUT Object "test$file.text" */
	{
		char ph[SIGV4_HEX_LEN];
		char path[64];
		struct sigv4_param h[] = {
			{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
			{ "x-amz-content-sha256", NULL },
			{ "x-amz-date", d },
			{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		};

		sigv4_sha256_hex((const uint8_t *)body, strlen(body), ph);
		CHECK(strcmp(ph, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e9"
		    "9e42034a8b803f8b072") == 0);
		h[1].value = ph;
		CHECK(http_url_encode("/test$file.text", 15, 1, path,
		    sizeof(path)) == 0);
		CHECK(strcmp(path, "/test%24file.text") == 0);
		CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "PUT", host,
		    path, "", h, 4, ph, auth, sizeof(auth)) == 0);
		CHECK(strcmp(sig_of(auth), "98ad721746da40c64f1a55b78f14c238d8"
		    "41ea1380cd77a1b5971af0ece108bd") == 0);
	}

	/* GET Bucket lifecycle: a bare parameter signs as "lifecycle=" */
	{
		struct sigv4_param q[] = { { "lifecycle", "" } };

		check_bucket_get(q, 1, "lifecycle=",
		    "fea454ca298b7da1c68078a5d1bdbfbbe0"
		    "d65c699e0f91ac7a200a0136783543");
	}

	/* GET Bucket (list objects), parameters given unsorted */
	{
		struct sigv4_param q[] = { { "prefix", "J" },
		    { "max-keys", "2" } };

		check_bucket_get(q, 2, "max-keys=2&prefix=J",
		    "34b48302e7b5fa45bde8084f4b7868a86f"
		    "0a534bc59db6670ed5711ef69dc6f7");
	}
}

static void
test_edges(void)
{
	const char *d = "20130524T000000Z";
	struct sigv4_param h[] = { { "x-amz-date", d } };
	struct sigv4_param dup[] = { { "x-amz-date", d }, { "X-Amz-Date", d } };
	struct sigv4_param q[] = { { "prefix", "a/b c+d" },
	    { "versions", "" }, { "key-marker", "k~1" } };
	struct sigv4_creds wrong = s3doc;
	char auth[SIGV4_AUTH_MAX];
	char auth2[SIGV4_AUTH_MAX];
	char query[256];
	char creq[4096];
	char date[SIGV4_DATE_LEN];

	CHECK(sigv4_query(q, 3, query, sizeof(query)) == 0);
	CHECK(strcmp(query, "key-marker=k~1&prefix=a%2Fb%20c%2Bd&versions=")
	    == 0);
	CHECK(sigv4_query(q, 3, query, 10) == -ERANGE);
	CHECK(sigv4_query(NULL, 0, query, sizeof(query)) == 0 &&
	    query[0] == 0);

	/* Header values are trimmed and squeezed, names lower-cased. */
	{
		struct sigv4_param sp[] = { { "My-Header", "  a   b  c  " } };

		CHECK(sigv4_canonical("GET", "h", "/", "", sp, 1, "UNSIGNED",
		    creq, sizeof(creq)) == 0);
		CHECK(strstr(creq, "\nmy-header:a b c\n") != NULL);
	}

	/* One changed byte of the secret changes the signature. */
	CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET", "h", "/", "", h,
	    1, SIGV4_EMPTY_SHA256, auth, sizeof(auth)) == 0);
	wrong.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz";
	CHECK(sigv4_sign(&wrong, "us-east-1", "s3", d, "GET", "h", "/", "", h,
	    1, SIGV4_EMPTY_SHA256, auth2, sizeof(auth2)) == 0);
	CHECK(strcmp(auth, auth2) != 0);

	CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET", "h", "/", "",
	    dup, 2, SIGV4_EMPTY_SHA256, auth, sizeof(auth)) == -EINVAL);
	CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", "2013", "GET", "h", "/",
	    "", h, 1, SIGV4_EMPTY_SHA256, auth, sizeof(auth)) == -EINVAL);
	CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET", "h", "/", "", h,
	    1, SIGV4_EMPTY_SHA256, auth, 40) == -ERANGE);

	/* A long session token (STS tokens run to kilobytes) is signed. */
	{
		static char tok[6001];
		struct sigv4_param th[] = { { "x-amz-date", NULL },
		    { "x-amz-security-token", tok } };

		memset(tok, 'T', sizeof(tok) - 1);
		th[0].value = d;
		CHECK(sigv4_sign(&s3doc, "us-east-1", "s3", d, "GET", "h", "/",
		    "", th, 2, SIGV4_EMPTY_SHA256, auth, sizeof(auth)) == 0);
		CHECK(strstr(auth, "SignedHeaders=host;x-amz-date;"
		    "x-amz-security-token,") != NULL);
	}

	sigv4_date(1369353600, date);
	CHECK(strcmp(date, "20130524T000000Z") == 0);
	sigv4_date(1440938160, date);
	CHECK(strcmp(date, "20150830T123600Z") == 0);
}

int
main(void)
{
	test_suite();
	test_s3_examples();
	test_edges();
	return check_done("test_sigv4");
}
