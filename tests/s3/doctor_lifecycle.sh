#!/usr/bin/env bash
# tests/s3/doctor_lifecycle.sh: `amber doctor` reports the bucket's
# lifecycle configuration (amber-store(5), PRUNING on S3): a rule that
# expires current versions over the store is a WARNING (it puts delete
# markers on kept objects); no NoncurrentVersionExpiration over the whole
# store is a WARNING (prune's markers would free nothing); the rule of the
# README is ok; rules elsewhere in the bucket, disabled or tag-filtered,
# do not count.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_start
s3_bucket dlc lock

lifecycle() { # RULES...
	local lc="<LifecycleConfiguration>$*</LifecycleConfiguration>"
	s3req PUT "/dlc?lifecycle=" --data-binary "$lc" -H "Content-MD5: $(s3_md5 "$lc")"
	[ "$HTTP" = 200 ] || fail "put lifecycle: $HTTP $(cat "$T/b")"
}
rule() { # ID PREFIX STATUS BODY
	echo "<Rule><ID>$1</ID><Filter><Prefix>$2</Prefix></Filter><Status>$3</Status>$4</Rule>"
}
nc='<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>'
ex='<Expiration><Days>30</Days></Expiration>'
dm='<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>'
doctor() {
	"$AMBER" doctor s3://dlc/st >"$T/out" 2>"$T/err"
	cat "$T/out"
}
line() { grep -q "^$1 *lifecycle $2" "$T/out" || fail "$3: want '$1 lifecycle $2'"; }

doctor
line WARNING "removes versions under delete markers: NONE.*no lifecycle configuration" "none"
line ok "expires current versions: none" "none"

lifecycle "$(rule amber st/ Enabled "$dm$nc")"
doctor
line ok "removes versions under delete markers: after 3 day(s), lone markers removed" "README rule"
line ok "expires current versions: none" "README rule"

# An expiration over the whole bucket reaches the store; one elsewhere,
# disabled or on a tag, does not; noncurrent expiry on a part only or
# elsewhere is not enough.
lifecycle "$(rule all '' Enabled "$ex")" "$(rule nc st/packs/ Enabled "$nc")"
doctor
line WARNING "expires current versions: 1 rule" "expiration over the bucket"
line WARNING "removes versions under delete markers: NONE.*no NoncurrentVersionExpiration" "part only"
lifecycle "$(rule other other/ Enabled "$ex")" "$(rule off st/ Disabled "$ex")" \
    "<Rule><ID>tag</ID><Filter><And><Prefix>st/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status>$ex</Rule>" \
    "$(rule nc '' Enabled "$nc")"
doctor
line ok "expires current versions: none" "elsewhere, disabled, tagged"
line ok "removes versions under delete markers: after 3 day" "bucket-wide noncurrent"
echo "doctor lifecycle ok"
