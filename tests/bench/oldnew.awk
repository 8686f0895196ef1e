# oldnew.awk: print the input with every occurrence of the string o
# replaced by OLD and of n by NEW (awk -v o=... -v n=... -f oldnew.awk),
# so that diff -r outputs of two pairs of trees compare line by line.
# The strings are taken as they are, not as regular expressions.
function sub_all(s, from, to,    i, r) {
	r = ""
	while ((i = index(s, from)) > 0) {
		r = r substr(s, 1, i - 1) to
		s = substr(s, i + length(from))
	}
	return r s
}
{ print sub_all(sub_all($0, o, "OLD"), n, "NEW") }
