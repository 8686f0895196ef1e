#!/usr/bin/python3
"""git_history.py: the history of the git benchmark, as a git fast-import
stream on stdout (tests/bench/git.sh feeds it to `git fast-import`).

    git_history.py BASE LIST a    commits 1..300, branches and tags
    git_history.py BASE LIST b    commits 301..310 on main, after a

BASE is the linux-source tree, LIST its sorted non-directory entries
("./path" per line).  Commits 1..200 add the entries in sorted slices;
commits 201..310 each insert a line in the middle of 20 regular files
spread over the tree.  Authors and dates are fixed, so the commit ids are
the same on every machine.  Refs: main (300, then 310), stable (250),
v0.1 (annotated, 100), v0.2 (200), v1.0 (annotated, 300).
"""
import os
import stat
import sys

N_ADD = 200
N_MOD_A = 100
N_MOD_B = 10
PER_MOD = 20
EMAIL = b"bench <bench@example.org>"


def when(n):
    return b"%d +0000" % (1700000000 + n * 3600)


def data(out, b):
    out.write(b"data %d\n" % len(b))
    out.write(b)
    out.write(b"\n")


def commit(out, n, msg, changes, parent=None):
    out.write(b"commit refs/heads/main\nmark :%d\n" % n)
    out.write(b"author " + EMAIL + b" " + when(n) + b"\n")
    out.write(b"committer " + EMAIL + b" " + when(n) + b"\n")
    data(out, msg)
    if parent is not None:
        out.write(b"from " + parent + b"\n")
    for mode, path, content in changes:
        out.write(b"M %s inline %s\n" % (mode, path))
        data(out, content)
    out.write(b"\n")


def tag(out, name, n, msg):
    out.write(b"tag %s\nfrom :%d\n" % (name, n))
    out.write(b"tagger " + EMAIL + b" " + when(n) + b"\n")
    data(out, msg)


def entry(base, rel):
    """mode and content of one entry, as git stores it"""
    p = os.path.join(base, rel)
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        return b"120000", os.fsencode(os.readlink(p))
    with open(p, "rb") as f:
        content = f.read()
    return (b"100755" if st.st_mode & 0o111 else b"100644"), content


def modified(m, regular):
    """the regular files changed by modification commit m (1-based)"""
    n = len(regular)
    return sorted({regular[(m * 7919 + k * 104729) % n]
                   for k in range(1, PER_MOD + 1)})


def main():
    base, listfile, part = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(listfile, "rb") as f:
        paths = [l.rstrip(b"\n")[2:] for l in f if l.startswith(b"./")]
    regular = [p for p in paths
               if stat.S_ISREG(os.lstat(os.path.join(os.fsencode(base),
                                                     p)).st_mode)]
    out = sys.stdout.buffer
    bbase = os.fsencode(base)
    current = {}            # path -> content after the changes so far

    def change(n, m):
        ch = []
        for p in modified(m, regular):
            if p in current:
                mode, c = current[p]
            else:
                mode, c = entry(bbase, p)
            half = len(c) // 2
            c = c[:half] + b"\n/* amber-bench git change %d */\n" % n + \
                c[half:]
            current[p] = (mode, c)
            ch.append((mode, p, c))
        return ch

    per = (len(paths) + N_ADD - 1) // N_ADD
    for c in range(1, N_ADD + 1):
        sl = paths[(c - 1) * per:c * per]
        if part == "a":
            commit(out, c, b"add slice %d\n" % c,
                   [(e[0], p, e[1]) for p in sl for e in [entry(bbase, p)]])
            if c == 100:
                tag(out, b"v0.1", c, b"release 0.1\n")
    if part == "a":
        out.write(b"reset refs/tags/v0.2\nfrom :%d\n\n" % N_ADD)
    for m in range(1, N_MOD_A + N_MOD_B + 1):
        n = N_ADD + m
        ch = change(n, m)
        if part == "a" and m <= N_MOD_A:
            commit(out, n, b"change %d\n" % m, ch)
            if m == 50:
                out.write(b"reset refs/heads/stable\nfrom :%d\n\n" % n)
            if m == N_MOD_A:
                tag(out, b"v1.0", n, b"release 1.0\n")
        elif part == "b" and m > N_MOD_A:
            commit(out, n, b"change %d\n" % m, ch,
                   b"refs/heads/main^0" if m == N_MOD_A + 1 else None)
    out.write(b"done\n")


if __name__ == "__main__":
    main()
