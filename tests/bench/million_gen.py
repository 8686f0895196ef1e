#!/usr/bin/env python3
"""tests/bench/million_gen.py: the synthetic tree of million.sh.

    million_gen.py DIR N [VARIANT]

Writes N small files under DIR, in directories of 1,000 (DIR/dNNN/eNN/
fNNNN: 100 files a leaf directory, 10 leaves a directory), each of 64 to
2,048 bytes of text-like bytes that compress about as source code does,
every file different.  The same N gives the same bytes on every machine
(a fixed seed).

With VARIANT (1, 2, ...), only every 1,000th file is rewritten, with a
line naming the variant added: a changed tree.  VARIANT 0 rewrites those
files as they were first.  Files that already hold the wanted bytes are
left alone, so a tree made once is reused.
"""
import os
import random
import sys

WORDS_SEED = 19
BLOB = 1 << 22


def blob():
    r = random.Random(WORDS_SEED)
    letters = "etaoinshrdlucmfwypvbgkjqxz_"
    words = ["".join(r.choice(letters) for _ in range(r.randint(2, 10)))
             for _ in range(3000)]
    out = []
    size = 0
    while size < BLOB:
        line = " ".join(r.choice(words) for _ in range(r.randint(1, 12)))
        line = "\t" * r.randint(0, 3) + line + ";\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def path_of(root, i):
    return os.path.join(root, "d%03d" % (i // 1000), "e%02d" % (i // 100 % 10),
                        "f%07d" % i)


def content(text, i, variant):
    r = random.Random(i)
    n = r.randint(64, 2048)
    off = r.randrange(0, len(text) - n)
    head = b"/* file %d */\n" % i
    body = text[off:off + n - len(head)]
    if variant:
        body += b"/* changed %d */\n" % variant
    return head + body


def write_if_needed(p, data):
    try:
        with open(p, "rb") as f:
            if f.read() == data:
                return 0
    except FileNotFoundError:
        pass
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return 1


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: million_gen.py DIR N [VARIANT]")
    root, n = sys.argv[1], int(sys.argv[2])
    variant = int(sys.argv[3]) if len(sys.argv) == 4 else None
    text = blob()
    written = 0
    if variant is None:
        for i in range(n):
            if i % 100 == 0:
                os.makedirs(os.path.dirname(path_of(root, i)), exist_ok=True)
            written += write_if_needed(path_of(root, i), content(text, i, 0))
            if i % 100000 == 99999:
                print("million_gen: %d of %d files" % (i + 1, n),
                      file=sys.stderr)
    else:
        for i in range(0, n, 1000):
            written += write_if_needed(path_of(root, i),
                                       content(text, i, variant))
    print("million_gen: %d files written" % written, file=sys.stderr)


if __name__ == "__main__":
    main()
