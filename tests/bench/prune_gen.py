#!/usr/bin/env python3
"""prune_gen.py DIR STEP: bring DIR to step STEP of prune.sh's history.

Step 0 makes 200 small files (512 B to 8 KiB) in 10 directories; every
later step rewrites 2 files chosen among those present and adds one.
The bytes depend only on the step, so two copies that go through the
same steps hold the same bytes (one for amber, one for restic).
"""
import os
import random
import sys


def write(r, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(r.randbytes(r.randrange(512, 8192)))


def main():
    d, step = sys.argv[1], int(sys.argv[2])
    r = random.Random(step)
    if step == 0:
        for i in range(200):
            write(r, os.path.join(d, "d%d" % (i % 10), "f%03d" % i))
        return
    names = sorted(os.path.join(top, n) for top, _, files in os.walk(d)
                   for n in files)
    for p in r.sample(names, 2):
        write(r, p)
    write(r, os.path.join(d, "d%d" % (step % 10), "n%05d" % step))


if __name__ == "__main__":
    main()
