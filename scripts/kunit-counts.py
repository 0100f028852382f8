#!/usr/bin/env python3
"""usage: scripts/kunit-counts.py RESULT.json

Prints 'PASSED FAILED SKIPPED' for the leaf test cases of a kunit.py --json
result, then one line per failed test case ('FAIL suite.case'). A crashed
test counts as failed.
"""
import json
import sys


def walk(group, prefix, counts, failed):
    name = group.get("name") or ""
    path = f"{prefix}.{name}" if prefix and name else (name or prefix)
    for case in group.get("test_cases", []):
        status = case.get("status")
        if status == "PASS":
            counts[0] += 1
        elif status == "SKIP":
            counts[2] += 1
        else:
            counts[1] += 1
            failed.append(f"{status} {path}.{case.get('name')}")
    for sub in group.get("sub_groups", []):
        walk(sub, path if prefix else "", counts, failed)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    with open(sys.argv[1]) as f:
        data = json.load(f)
    counts, failed = [0, 0, 0], []
    walk(data, "", counts, failed)
    print(*counts)
    for line in failed:
        print(line)


if __name__ == "__main__":
    main()
