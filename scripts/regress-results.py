#!/usr/bin/env python3
"""usage: scripts/regress-results.py collect LOG KUNIT.json|-
       scripts/regress-results.py compare BASE.results SERIES.results

collect: prints one line 'SUITE<TAB>TEST<TAB>pass|fail|skip' per test of a
regression boot: the KUnit cases of the kunit.py --json result (suite
'kunit:NAME'; '-' for a boot without KUnit), then the TAP results of each user-space section of the log
(between 'REGRESS BEGIN NAME' and 'REGRESS END NAME rc=N').  A section that
never ended adds a failing test 'SECTION (did not finish)'.

compare: prints the table of counts per suite, base against series, then
every regression (a test that passes on the base and fails, is skipped or is
missing on the series), and last the line 'PASSED FAILED SKIPPED': passed
are the series' passing tests, failed the regressions, skipped the rest
(skipped on both, or failing on the base too).
"""
import collections
import json
import re
import sys

TAP = re.compile(r"^(not )?ok \d+ (.*?)(?:\s+#\s*(SKIP|XFAIL|TODO)\b.*)?$")
STAMP = re.compile(r"^\[\s*\d+\.\d+\] ?")


def kunit_cases(group, prefix, out):
    name = group.get("name") or ""
    path = f"{prefix}.{name}" if prefix and name else (name or prefix)
    for case in group.get("test_cases", []):
        status = {"PASS": "pass", "SKIP": "skip"}.get(case.get("status"), "fail")
        suite, _, rest = f"{path}.{case.get('name')}".partition(".")
        out.append((f"kunit:{suite}", rest, status))
    for sub in group.get("sub_groups", []):
        kunit_cases(sub, path if prefix else "", out)


def collect(log, kjson):
    out = []
    try:
        if kjson != "-":
            with open(kjson) as f:
                kunit_cases(json.load(f), "", out)
    except (OSError, ValueError):
        out.append(("kunit", "(no KUnit results)", "fail"))
    section = None
    with open(log, errors="replace") as f:
        for raw in f:
            line = STAMP.sub("", raw.rstrip("\r\n"))
            m = re.match(r"^REGRESS BEGIN (\S+)$", line)
            if m:
                section = m.group(1)
                continue
            if re.match(r"^REGRESS END \S+ rc=\d+$", line):
                section = None
                continue
            if section is None:
                continue
            m = TAP.match(line)
            if m:
                status = "fail" if m.group(1) else "pass"
                if m.group(3) == "SKIP":
                    status = "skip"
                out.append((section, m.group(2).strip(), status))
    if section is not None:
        out.append((section, "(did not finish)", "fail"))
    for suite, test, status in out:
        print(f"{suite}\t{test}\t{status}")


def load(path):
    res = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            suite, test, status = line.rstrip("\n").split("\t")
            res[(suite, test)] = status
    return res


def compare(base_path, series_path):
    base, series = load(base_path), load(series_path)
    suites = list(dict.fromkeys([k[0] for k in base] + [k[0] for k in series]))
    counts = {s: {"base": [0, 0, 0], "series": [0, 0, 0]} for s in suites}
    idx = {"pass": 0, "fail": 1, "skip": 2}
    for side, res in (("base", base), ("series", series)):
        for (suite, _), status in res.items():
            counts[suite][side][idx[status]] += 1
    regressions = []
    passed = skipped = 0
    for key in dict.fromkeys(list(base) + list(series)):
        b, s = base.get(key), series.get(key)
        if b == "pass" and s != "pass":
            regressions.append((key, s or "missing"))
        elif s == "pass":
            passed += 1
        else:
            skipped += 1
    print(f"{'suite':<24} {'base p/f/s':>14} {'series p/f/s':>14}  same")
    for s in suites:
        b, r = counts[s]["base"], counts[s]["series"]
        same = "yes" if all(base.get(k) == series.get(k)
                            for k in set(base) | set(series) if k[0] == s) else "NO"
        print(f"{s:<24} {'/'.join(map(str, b)):>14} {'/'.join(map(str, r)):>14}  {same}")
    for (suite, test), got in regressions:
        print(f"REGRESSION {suite} {test}: passes on the base, {got} on the series")
    print(passed, len(regressions), skipped)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__.strip())


if __name__ == "__main__":
    main()
