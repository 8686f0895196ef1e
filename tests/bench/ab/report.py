#!/usr/bin/env python3
# report.py TSV...: medians, every run, per-round new/old ratios, and
# cat/ceiling per slot (the ceiling run taken right after that cat).
import sys, statistics as st
from collections import defaultdict
for path in sys.argv[1:]:
    d = defaultdict(dict)          # (ver, metric) -> {round: value}
    loads = []
    for line in open(path):
        t, v, m, x, r, load = line.rstrip('\n').split('\t')
        d[(v, m)][int(r)] = float(x)
        loads.append(float(load.split()[0]))
    print(f"== {path}: 1-min load over the run min {min(loads)} median {st.median(loads)} max {max(loads)}")
    metrics = [m for m in ['cat_mount_mbs', 'cat_mount_cpu_s', 'ceiling_ra1m_mbs', 'find_cold_s',
               'find_cold_cpu_s', 'diff_warm_s', 'diff_warm_cpu_s', 'amber_cat_s', 'amber_cat_cpu_s']
               if ('old', m) in d]
    for m in metrics:
        o, n = d[('old', m)], d[('new', m)]
        rs = sorted(set(o) & set(n))
        mo, mn = st.median(o.values()), st.median(n.values())
        ratios = [n[r] / o[r] for r in rs if o[r]]
        print(f"{m:17s} old median {mo:9.3f}  new median {mn:9.3f}  new/old of medians {mn/mo:5.2f}  median of per-round new/old {st.median(ratios):5.2f}")
        print(f"{'':17s} old runs: {' '.join('%g' % o[r] for r in sorted(o))}")
        print(f"{'':17s} new runs: {' '.join('%g' % n[r] for r in sorted(n))}")
    if ('old', 'ceiling_ra1m_mbs') in d:
        allc = list(d[('old', 'ceiling_ra1m_mbs')].values()) + list(d[('new', 'ceiling_ra1m_mbs')].values())
        c = st.median(allc)
        print(f"ceiling (all {len(allc)} runs) median {c:.0f} MB/s")
        for v in ('old', 'new'):
            cat, ceil = d[(v, 'cat_mount_mbs')], d[(v, 'ceiling_ra1m_mbs')]
            per = [cat[r] / ceil[r] for r in sorted(cat) if r in ceil]
            print(f"cat/ceiling {v}: median cat / median of all ceiling runs {st.median(cat.values())/c:.2f}; "
                  f"per slot (cat / the ceiling run right after it) median {st.median(per):.2f} "
                  f"runs: {' '.join('%.2f' % x for x in per)}")
