#!/usr/bin/env python3
"""usage: scripts/nvme/bench-table.py [--csv FILE] [--txt FILE] [--shift N] MODE.log...

The table of the NVMe benchmark (scripts/nvme.sh -b) from the console logs
of its boots, one per IOMMU mode (the file name without .log is the mode).
The guest (scripts/nvme/bench.sh) prints each fio run as a 'nvme-bench: run
JOB PATH REP IOS ELAPSED_US BUSY_US EVENTS' line, fio's JSON output on
'nvme-bench-json: ' lines, and 'nvme-bench: end'.

For each mode, job and path (sg, iter): the medians over the runs of IOPS,
mean and 99th percentile completion latency (fio's clat, guest µs) and
busy µs per I/O: (busy time of the run - the median busy time of the
one-I/O runs of that job and path) / (I/Os - 1).  Prints the table (sg and
iter side by side, with the ratios iter/sg), writes it to --txt and every
figure to --csv.  Reports, asserts nothing.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys

RUN = re.compile(r'nvme-bench: run (\S+) (\S+) (\d+) (\d+) (\d+) (-?\d+) (\d+)\s*$')
DROP = re.compile(r'nvme-bench: drop (\S+) (\S+) (\d+) (\d+) \((.*)\)')
PATHS = re.compile(r'nvme-bench: paths: ([a-z ]+);')
DONE = re.compile(r'nvme-bench: done: (\d+) runs, (\d+) dropped, (\d+) missing')
JSON = 'nvme-bench-json: '


def parse(log):
    """Runs, drops, paths and the done line of one boot's log."""
    runs, drops, paths, done, unreadable = [], [], None, None, 0
    cur = None
    with open(log, errors='replace') as f:
        for line in f:
            line = line.rstrip('\r\n')
            if cur is not None:
                if line.startswith(JSON):
                    cur['text'].append(line[len(JSON):])
                    continue
                if line.startswith('nvme-bench: end'):
                    # fio puts 'Saving output of prerun ...' before its JSON
                    text = cur['text']
                    while text and text[0] != '{':
                        text = text[1:]
                    try:
                        cur['fio'] = json.loads('\n'.join(text))
                        runs.append(cur)
                    except ValueError:
                        unreadable += 1	# a kernel message cut into it
                    cur = None
                    continue
                if line.startswith('nvme-bench:'):
                    unreadable += 1
                    cur = None
                # else: a kernel message between the lines
            m = RUN.search(line)
            if m:
                job, path, rep, ios, el, busy, _ = m.groups()
                cur = {'job': job, 'path': path, 'rep': int(rep), 'ios': int(ios),
                       'elapsed': int(el), 'busy': int(busy), 'text': []}
                continue
            m = DROP.search(line)
            if m:
                drops.append(m.groups())
                continue
            m = PATHS.search(line)
            if m:
                paths = m.group(1).split()
                continue
            m = DONE.search(line)
            if m:
                done = tuple(int(x) for x in m.groups())
    return runs, drops, paths, done, unreadable


def med(values):
    return statistics.median(values) if values else None


def figures(runs):
    """Medians for the runs of one job and path; None where there are none."""
    ones = [r['busy'] for r in runs if r['ios'] == 1]
    startup = med(ones)
    iops, mean, p99, busy = [], [], [], []
    for r in runs:
        if r['ios'] < 2:
            continue
        rd = r['fio']['jobs'][0]['read']
        iops.append(rd['iops'])
        mean.append(rd['clat_ns']['mean'] / 1000)
        p99.append(rd['clat_ns']['percentile']['99.000000'] / 1000)
        if startup is not None:
            busy.append((r['busy'] - startup) / (r['ios'] - 1))
    return {'runs': len(iops), 'ios': max((r['ios'] for r in runs), default=0),
            'iops': med(iops), 'mean': med(mean), 'p99': med(p99),
            'busy': med(busy), 'busy_min': min(busy, default=None),
            'busy_max': max(busy, default=None), 'startup': startup}


def cell(v, width, fmt):
    return f'{"n/a":>{width}}' if v is None else f'{v:>{width}{fmt}}'


def ratio(a, b, width=7):
    return cell(a / b if a is not None and b else None, width, '.2f')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    ap.add_argument('--csv')
    ap.add_argument('--txt')
    ap.add_argument('--shift', default='3')
    ap.add_argument('logs', nargs='+')
    a = ap.parse_args()

    out, rows, notes = [], [], []
    # column groups: IOPS (sg, iter, ratio), mean and p99 latency (sg,
    # iter), busy (sg, iter, ratio)
    head1 = (f'{"":30} {"IOPS":^23} {"mean clat µs":^17} {"p99 clat µs":^17} '
             f'{"busy µs per I/O":^25}')
    head2 = (f'{"mode":12} {"job":17} {"sg":>7} {"iter":>7} {"iter/sg":>7} '
             f'{"sg":>8} {"iter":>8} {"sg":>8} {"iter":>8} '
             f'{"sg":>8} {"iter":>8} {"iter/sg":>7}')
    out += [head1, head2]
    nruns = set()
    for log in a.logs:
        mode = os.path.basename(log)[:-len('.log')]
        runs, drops, paths, done, unreadable = parse(log)
        jobs = []
        for r in runs:
            if r['job'] not in jobs:
                jobs.append(r['job'])
        if not runs:
            out.append(f'{mode:12} (no runs: {log})')
        for job in jobs:
            f = {p: figures([r for r in runs if r['job'] == job and r['path'] == p])
                 for p in ('sg', 'iter')}
            s, i = f['sg'], f['iter']
            nruns.update({s['runs'], i['runs']} - {0})
            out.append(
                f'{mode:12} {job:17} {cell(s["iops"], 7, ".0f")} {cell(i["iops"], 7, ".0f")} '
                f'{ratio(i["iops"], s["iops"])} '
                f'{cell(s["mean"], 8, ".1f")} {cell(i["mean"], 8, ".1f")} '
                f'{cell(s["p99"], 8, ".0f")} {cell(i["p99"], 8, ".0f")} '
                f'{cell(s["busy"], 8, ".1f")} {cell(i["busy"], 8, ".1f")} {ratio(i["busy"], s["busy"])}')
            for p in ('sg', 'iter'):
                if f[p]['runs']:
                    rows.append([mode, job, p, f[p]['runs'], f[p]['ios']] +
                                [None if f[p][k] is None else round(f[p][k], 2) for k in
                                 ('iops', 'mean', 'p99', 'busy', 'busy_min', 'busy_max', 'startup')] +
                                [sum(1 for d in drops if d[0] == job and d[1] == p)])
        what = []
        if paths is not None and 'iter' not in paths:
            what.append('no nvme.dma_iter: sg only')
        if done is None:
            what.append('the guest did not finish')
        elif done[2]:
            what.append(f'{done[2]} runs missing')
        if drops:
            why = {}
            for d in drops:
                why[d[4]] = why.get(d[4], 0) + 1
            what.append(f'{len(drops)} runs dropped (' +
                        ', '.join(f'{n} {w}' for w, n in why.items()) + ')')
        if unreadable:
            what.append(f'{unreadable} runs unreadable in the log')
        if what:
            notes.append(f'{mode}: ' + '; '.join(what))
    n = '/'.join(str(x) for x in sorted(nruns)) or '0'
    out.append(f'medians of {n} runs a path, guest time under -icount shift={a.shift},sleep=off; '
               'fio io_uring, direct; clat: completion latency; busy: guest CPU time per I/O, '
               'fio start-up subtracted')
    out += notes
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    if a.txt:
        with open(a.txt, 'w') as f:
            f.write(text)
    if a.csv:
        with open(a.csv, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(['mode', 'job', 'path', 'runs', 'ios_per_run', 'iops', 'clat_mean_us',
                        'clat_p99_us', 'busy_us_per_io', 'busy_us_per_io_min',
                        'busy_us_per_io_max', 'startup_busy_us', 'dropped'])
            w.writerows(rows)


if __name__ == '__main__':
    main()
