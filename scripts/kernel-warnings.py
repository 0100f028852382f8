#!/usr/bin/env python3
"""usage: scripts/kernel-warnings.py BOOT.log

Checks the kernel's warnings in a boot log against the ones the tests
provoke on purpose, and prints one line per problem (nothing when all is
well; exit status 1 when there is a problem):

  - a line that means the kernel is broken (WARNING:, BUG:, Oops, a panic,
    a call trace, KASAN/UBSAN, a hung task, a lockdep splat, a DMA-API
    debug report, a kmemleak report), except, inside the brackets
    below, the warnings of the functions they name and their call traces;
  - a bracket whose caller bug did not warn.

A test that calls the API wrongly on purpose brackets the calls with
    dma-edu-kunit: expected warning begin: FUNC [FUNC...]
    dma-edu-kunit: expected warning end
naming the functions that must warn.  The API warns once per call site and
boot (WARN_ON_ONCE), so a function must warn inside the bracket only if it
has not warned earlier in the boot.  A name ending in '?' may warn there
but need not (dma-debug prints only the first error of a boot; its tests
count the errors themselves).  Inside a bracket, dma-debug's own report
lines ('DMA-API: ...') are excused with its warning.

dma-debug counts every error but prints only the first, so an error that
no test provoked could hide behind a provoked one: the suites print
'dma-edu-kunit: dma-debug errors provoked: N' and the boot's init prints
dma-debug's final count as 'dma-api error_count: M'; M must be the sum of
the Ns.
"""
import re
import sys

# A kmemleak leak is the 'unreferenced object' record that reading the
# kmemleak file prints after the scans, with its backtrace.  The scan's
# summary 'N new suspected memory leaks' alone is not one: with two CPUs it
# also counts objects that RCU frees right after the scan (the init's own
# processes), which the listing then no longer has.
BAD = re.compile(r'(WARNING:|BUG:|Oops|Kernel panic|general protection fault|'
                 r'KASAN|UBSAN|kernel BUG|Call Trace:|INFO: task .* blocked|'
                 r'DMA-API: \S+ \S+: |DMA-API: .*(out of memory|disabl|ENOMEM|'
                 r'exceeded|overlapping)|unreferenced object 0x|'
                 r'possible recursive locking|inconsistent lock state)')
WARN_AT = re.compile(r'WARNING: CPU: \d+ PID: \d+ at \S+ (\w+)(?:\.\w+\.\d+)*\+0x')
BEGIN = re.compile(r'dma-edu-kunit: expected warning begin(?::\s*(.*))?$')
END = 'dma-edu-kunit: expected warning end'
PROVOKED = re.compile(r'dma-edu-kunit: dma-debug errors provoked: (\d+)')
ERROR_COUNT = re.compile(r'^dma-api error_count: (\d+)')


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    problems = []
    warned = set()          # functions that warned so far in this boot
    inside, named, want, seen = False, set(), [], set()
    provoked, counted = 0, None
    with open(sys.argv[1], errors='replace') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            m = BEGIN.search(line)
            if m:
                inside, seen = True, set()
                words = (m.group(1) or '').split()
                named = set(w.rstrip('?') for w in words)
                want = [w for w in words
                        if not w.endswith('?') and w not in warned]
                continue
            if END in line:
                for func in want:
                    if func not in seen:
                        problems.append(f'line {n}: {func} did not warn on a caller bug')
                inside, named, want = False, set(), []
                continue
            m = WARN_AT.search(line)
            if m:
                warned.add(m.group(1))
                seen.add(m.group(1))
            m2 = PROVOKED.search(line)
            if m2:
                provoked += int(m2.group(1))
            m2 = ERROR_COUNT.search(line)
            if m2:
                counted = int(m2.group(1))
            # dma-debug's report around its WARNING: 'DMA-API: <dev>: ...'
            excused = inside and ((m and m.group(1) in named) or
                                  'Call Trace:' in line or
                                  'DMA-API: ' in line)
            if BAD.search(line) and not excused:
                problems.append(f'line {n}: {line.strip()[:100]}')
    if inside:
        problems.append('a warning bracket was never closed')
    if counted is not None and counted != provoked:
        problems.append(f'dma-debug counted {counted} errors, the tests provoked '
                        f'{provoked}: an error it did not print (it prints only '
                        f'the first of a boot)')
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
