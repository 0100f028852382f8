#!/usr/bin/env python3
"""usage: pyverbs_odp.py odp|refused RUN_TESTS.PY ARG...

Runs rdma-core's tests/run_tests.py (pyverbs) with ARG... (in the guest of
scripts/rxe.sh -P: '--dev rxe0 --gid N test_odp') and prints, as each test
ends, one line in the format of the rest of scripts/rxe.sh:

    rxe-test: ok pyverbs/NAME [N s]
    rxe-test: FAIL pyverbs/NAME (why) [N s]
    rxe-test: SKIP pyverbs/NAME (why) [N s]

A unittest TestResult subclass (given to the test runner that run_tests.py
starts) judges each result against what the kernel must do:

  - odp (rxe with ODP): the seven tests of MUST_PASS pass, and every skip
    gives one of the reasons of SKIPS['odp'] (rxe has no implicit ODP and
    no advise_mr, the guest no 2 MiB huge pages, rxe no XRC);
  - refused (rxe without ODP): no test passes, and every skip gives one of
    the reasons of SKIPS['refused'] ('No ODP caps', huge pages, XRC).

Anything else is a FAIL: a failure or an error (its traceback is printed
first), a skip for another reason, a test of MUST_PASS that did not run.
Exits 0 once the run is over (whatever the results), non-zero when it did
not get there (run_tests.py itself failed).
"""
import re
import runpy
import sys
import time
import unittest

START = time.monotonic()    # the first test's time includes the imports
MUST_PASS = {
    'test_odp_rc_traffic', 'test_odp_rc_srq_traffic', 'test_odp_ud_traffic',
    'test_odp_rc_rdma_read', 'test_odp_rc_rdma_write',
    'test_odp_rc_atomic_cmp_and_swp', 'test_odp_rc_atomic_fetch_and_add',
}
HUGE = (r'(Huge pages of size \S+ is not supported'
        r'|There are no huge pages of size \S+ allocated)')
XRCD = r'Create XRCD is not supported'
SKIPS = {
    'odp': [r'ODP implicit is not supported',
            r'Advise MR with flags \(\d+\) and advice \(\d+\) is not '
            r'supported',
            HUGE, XRCD],
    'refused': [r'No ODP caps', HUGE, XRCD],
}


class RxeResult(unittest.TestResult):
    """Prints an rxe-test line per test; the lists of TestResult are kept."""
    expect = 'odp'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last = START
        self.seen = set()
        self.finished = False

    @staticmethod
    def name(test):
        n = getattr(test, '_testMethodName', None) or str(test)
        return re.sub(r'\s+', '_', n)

    def line(self, test, what, why=''):
        now = time.monotonic()
        n = self.name(test)
        self.seen.add(n)
        why = ' '.join(why.split())
        print(f'rxe-test: {what} pyverbs/{n}{f" ({why})" if why else ""}'
              f' [{int(now - self.last)} s]', flush=True)
        self.last = now

    def failed(self, test, err, kind):
        tb = self._exc_info_to_string(err, test)   # without unittest's frames
        for t in tb.splitlines():
            print(f'    {t}', flush=True)
        last = tb.strip().splitlines()[-1] if tb.strip() else kind
        self.line(test, 'FAIL', f'{kind}: {last}'[:200])

    def addSuccess(self, test):
        super().addSuccess(test)
        if self.expect == 'refused':
            self.line(test, 'FAIL', 'passed: rxe0 must refuse ODP')
        elif self.name(test) in MUST_PASS:
            self.line(test, 'ok')
        else:
            self.line(test, 'ok', 'expected a skip: update MUST_PASS')

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if self.expect == 'odp' and self.name(test) in MUST_PASS:
            self.line(test, 'FAIL', f'must pass, skipped: {reason}')
        elif any(re.search(r, reason) for r in SKIPS[self.expect]):
            self.line(test, 'SKIP', reason)
        else:
            self.line(test, 'FAIL',
                      f'skip reason not expected with -x {self.expect}: '
                      f'{reason}')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed(test, err, 'failure')

    def addError(self, test, err):
        super().addError(test, err)
        self.failed(test, err, 'error')

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed(subtest, err, 'subtest')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.line(test, 'ok', 'expected failure')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.line(test, 'FAIL', 'unexpected success')

    def stopTestRun(self):
        super().stopTestRun()
        for n in sorted(MUST_PASS - self.seen):
            print(f'rxe-test: FAIL pyverbs/{n} (did not run) [0 s]',
                  flush=True)
        self.finished = True


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SKIPS:
        sys.exit(__doc__.split('\n')[0])
    RxeResult.expect = sys.argv[1]
    run_tests = sys.argv[2]
    # run_tests.py imports args_parser from its own folder, then calls
    # unittest.main(), whose TextTestRunner makes a resultclass().
    sys.argv = sys.argv[2:]
    sys.path.insert(0, run_tests.rsplit('/', 1)[0] or '.')
    results = []

    class Result(RxeResult):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            results.append(self)

    unittest.TextTestRunner.resultclass = Result
    try:
        runpy.run_path(run_tests, run_name='__main__')
    except SystemExit:
        pass    # unittest.main() exits 1 when a test failed: judged above
    sys.exit(0 if results and results[-1].finished else 1)


if __name__ == '__main__':
    main()
