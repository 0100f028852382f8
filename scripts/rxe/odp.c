// SPDX-License-Identifier: GPL-2.0
/*
 * On-demand paging (ODP) memory regions on one RDMA device, in loopback.
 *
 * usage: odp [-d DEV] [-g GIDX] [-p] CASE   run one case
 *        odp -l [-p]                        list the cases
 *        odp [-d DEV] -r                    expect a device without ODP
 *
 * One process, one device, two RC QPs connected to each other through the
 * device's own GID (RoCE v2: port 1, GID index GIDX, default 1).  Each case
 * prints one line, 'ok CASE', 'FAIL CASE (why)' or 'SKIP CASE (why)', and
 * what else it has to say indented; the exit status is 0 unless it failed.
 * scripts/rxe.sh runs one process per case and turns the lines into its
 * 'rxe-test:' lines.
 *
 * -p registers plain (pinned) memory regions instead of ODP ones, for the
 * cases where that means anything: the control that proves the rig.
 * -r checks only that the device reports no ODP and that registering an
 * ODP memory region fails.
 *
 * Everything is bounded: each completion is waited for at most
 * CQ_TIMEOUT_S seconds (an operation that never completes is a FAIL
 * 'hang'), and alarm() ends the process after WATCHDOG_S seconds.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o odp odp.c -libverbs
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CQ_TIMEOUT_S	10	/* the longest wait for one completion */
#define WATCHDOG_S	120	/* the longest a case may take */
#define BUF_LEN		(64 * 1024)
#define PORT		1
#define MAX_STASH	64
#define ZAP_PAUSE_US	200	/* between two zaps of the zap-race case */
#define ZAP_ROUNDS	200	/* at least that many rounds of traffic, */
#define ZAP_MIN		500	/* and of zaps, */
#define ZAP_SECS	30	/* unless this many seconds have passed */

#define ODP_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | \
			 IBV_ACCESS_REMOTE_WRITE)

/* The rig: one device, one PD, one CQ, a pair of RC QPs in loopback. */
struct rig {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_comp_channel *chan;	/* the CQ's events: wait asleep */
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	union ibv_gid gid;
	int gidx;
	int odp;			/* register ODP MRs (else pinned ones) */
	uint64_t next_id;		/* wr_id of the next work request */
	struct ibv_wc stash[MAX_STASH];	/* polled, not yet claimed */
	int nstash;
	unsigned int nevents;		/* CQ events not acknowledged yet */
	char why[512];			/* the reason of a FAIL */
};

static const char *case_name = "?";
static long page_size;

/* Set the reason of a failure; returns -1 for 'return fail(...)'. */
static int __attribute__((format(printf, 2, 3)))
fail(struct rig *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Prefix the reason of a failure with WHAT; returns -1. */
static int fail_in(struct rig *r, const char *what)
{
	char old[sizeof(r->why)];

	memcpy(old, r->why, sizeof(old));
	return fail(r, "%s: %s", what, old);
}

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;

	fputs("    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void watchdog(int sig)
{
	char line[256];
	int n;

	(void)sig;
	n = snprintf(line, sizeof(line), "FAIL %s (watchdog: not done after %d s)\n",
		     case_name, WATCHDOG_S);
	if (write(STDOUT_FILENO, line, n) < 0)
		_exit(3);
	_exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- memory ---------------------------------------------------------- */

/* An anonymous private mapping of LEN bytes, never touched. */
static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Register [buf, buf+len) at IOVA (0: at its address), ODP when the rig is. */
static struct ibv_mr *reg_iova(struct rig *r, void *buf, size_t len,
			       uint64_t iova, int access)
{
	struct ibv_mr *mr;

	if (r->odp)
		access |= IBV_ACCESS_ON_DEMAND;
	if (iova)
		mr = ibv_reg_mr_iova(r->pd, buf, len, iova, access);
	else
		mr = ibv_reg_mr(r->pd, buf, len, access);
	if (!mr)
		fail(r, "ibv_reg_mr%s(%s0x%x): %s", iova ? "_iova" : "",
		     r->odp ? "ON_DEMAND|" : "", access & ~IBV_ACCESS_ON_DEMAND,
		     strerror(errno));
	return mr;
}

static struct ibv_mr *reg(struct rig *r, void *buf, size_t len, int access)
{
	return reg_iova(r, buf, len, 0, access);
}

/* Register [buf, buf+len) pinned, whatever the rig's MRs are. */
static struct ibv_mr *reg_pinned(struct rig *r, void *buf, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(r->pd, buf, len, access);

	if (!mr)
		fail(r, "ibv_reg_mr(0x%x): %s", access, strerror(errno));
	return mr;
}

/* The test pattern: depends on the offset and on the iteration. */
static uint8_t pattern(size_t off, int iter)
{
	uint32_t x = off * 2654435761u + iter * 40503u + (off >> 12);

	return (x >> 13) ^ (x >> 24) ^ iter ^ 0x5a;
}

static void fill(uint8_t *buf, size_t len, int iter)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i, iter);
}

/* Compare BUF with the pattern of ITER (iter < 0: zeros); 0 if equal. */
static int check(struct rig *r, const char *what, const uint8_t *buf,
		 size_t len, int iter)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t want = iter < 0 ? 0 : pattern(i, iter);

		if (buf[i] != want)
			return fail(r, "%s: byte %zu (page %zu) is 0x%02x, not 0x%02x",
				    what, i, i / page_size, buf[i], want);
	}
	return 0;
}

/* ---- queue pairs ----------------------------------------------------- */

static int qp_modify(struct rig *r, struct ibv_qp *qp, struct ibv_qp_attr *a,
		     int mask, const char *state)
{
	int err = ibv_modify_qp(qp, a, mask);

	if (err)
		return fail(r, "ibv_modify_qp(%s): %s", state, strerror(err));
	return 0;
}

/* Bring QP from RESET to RTS, connected to the QP number PEER on our GID. */
static int qp_connect(struct rig *r, struct ibv_qp *qp, uint32_t peer)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = 0;
	a.port_num = PORT;
	a.qp_access_flags = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
			    IBV_ACCESS_REMOTE_ATOMIC;
	if (qp_modify(r, qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
		      IBV_QP_PORT | IBV_QP_ACCESS_FLAGS, "INIT"))
		return -1;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = peer;
	a.rq_psn = 0;
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = r->gid;
	a.ah_attr.grh.sgid_index = r->gidx;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.dlid = 0;
	a.ah_attr.port_num = PORT;
	if (qp_modify(r, qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
		      IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
		      IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER, "RTR"))
		return -1;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;		/* 4.096 us * 2^14: 67 ms */
	a.retry_cnt = 3;
	a.rnr_retry = 3;	/* 7 would be forever */
	a.sq_psn = 0;
	a.max_rd_atomic = 4;
	return qp_modify(r, qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			 IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			 IBV_QP_MAX_QP_RD_ATOMIC, "RTS");
}

static void pair_close(struct rig *r)
{
	for (int i = 0; i < 2; i++) {
		if (r->qp[i])
			ibv_destroy_qp(r->qp[i]);
		r->qp[i] = NULL;
	}
	if (r->cq) {
		ibv_ack_cq_events(r->cq, r->nevents);
		ibv_destroy_cq(r->cq);
	}
	r->cq = NULL;
	r->nstash = 0;
	r->nevents = 0;
}

/*
 * (Re)create the CQ and the two QPs and connect them to each other.  After
 * an error completion the QPs are in the error state: a case that goes on
 * calls this again.
 */
static int pair_open(struct rig *r)
{
	struct ibv_qp_init_attr ia;

	pair_close(r);
	r->cq = ibv_create_cq(r->ctx, 64, NULL, r->chan, 0);
	if (!r->cq)
		return fail(r, "ibv_create_cq: %s", strerror(errno));
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = r->cq;
	ia.recv_cq = r->cq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = 16;
	ia.cap.max_recv_wr = 16;
	ia.cap.max_send_sge = 1;
	ia.cap.max_recv_sge = 1;
	for (int i = 0; i < 2; i++) {
		r->qp[i] = ibv_create_qp(r->pd, &ia);
		if (!r->qp[i])
			return fail(r, "ibv_create_qp: %s", strerror(errno));
	}
	if (qp_connect(r, r->qp[0], r->qp[1]->qp_num) ||
	    qp_connect(r, r->qp[1], r->qp[0]->qp_num))
		return -1;
	return 0;
}

/* Poll one completion into the stash: 1, 0 if none, -1 on error. */
static int poll_one(struct rig *r)
{
	int n;

	if (r->nstash == MAX_STASH)
		return fail(r, "%d completions nobody waits for", MAX_STASH);
	n = ibv_poll_cq(r->cq, 1, &r->stash[r->nstash]);
	if (n < 0)
		return fail(r, "ibv_poll_cq: %d", n);
	r->nstash += n;
	return n;
}

/*
 * Sleep until the CQ has an event or 100 ms have passed (asleep, not
 * polling: rxe's work runs in kernel threads that need the CPUs).
 */
static int sleep_on_cq(struct rig *r)
{
	struct pollfd pfd = { .fd = r->chan->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *cq_ctx;
	int n;

	n = ibv_req_notify_cq(r->cq, 0);
	if (n)
		return fail(r, "ibv_req_notify_cq: %s", strerror(n));
	/* what completed before the request raised no event */
	n = poll_one(r);
	if (n)
		return n < 0 ? -1 : 0;
	if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
		return fail(r, "poll: %s", strerror(errno));
	while (!ibv_get_cq_event(r->chan, &cq, &cq_ctx))
		r->nevents++;
	return 0;
}

/*
 * Wait for the completion of the work request ID, for at most SECS seconds.
 * Completions of other requests are kept for later.  0 with *WC filled, or
 * -1 (and the reason) when none came: a hang.
 */
static int wait_wc(struct rig *r, uint64_t id, struct ibv_wc *wc, double secs)
{
	double end = now() + secs;
	int n;

	for (;;) {
		for (int i = 0; i < r->nstash; i++) {
			if (r->stash[i].wr_id != id)
				continue;
			*wc = r->stash[i];
			r->stash[i] = r->stash[--r->nstash];
			return 0;
		}
		n = poll_one(r);
		if (n < 0)
			return -1;
		if (n)
			continue;
		if (now() > end)
			return fail(r, "hang: no completion of request %llu after %.0f s",
				    (unsigned long long)id, secs);
		if (sleep_on_cq(r))
			return -1;
	}
}

/* A work request on one buffer: the local half of every operation. */
struct op {
	enum ibv_wr_opcode opcode;
	struct ibv_mr *mr;	/* local MR */
	void *addr;		/* local buffer */
	uint32_t len;
	uint64_t raddr;		/* remote address (an iova of the remote MR) */
	uint32_t rkey;
	uint64_t compare_add, swap;	/* atomics */
};

static const char *op_name(enum ibv_wr_opcode op)
{
	switch (op) {
	case IBV_WR_RDMA_WRITE: return "RDMA WRITE";
	case IBV_WR_RDMA_READ: return "RDMA READ";
	case IBV_WR_SEND: return "SEND";
	case IBV_WR_ATOMIC_FETCH_AND_ADD: return "FETCH ADD";
	case IBV_WR_ATOMIC_CMP_AND_SWP: return "CMP SWAP";
	default: return "?";
	}
}

/* Post OP on QP; returns its wr_id, or 0 (and the reason) on failure. */
static uint64_t post(struct rig *r, struct ibv_qp *qp, const struct op *op)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)op->addr, .length = op->len, .lkey = op->mr->lkey,
	};
	struct ibv_send_wr wr, *bad;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = ++r->next_id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op->opcode;
	wr.send_flags = IBV_SEND_SIGNALED;
	if (op->opcode == IBV_WR_ATOMIC_FETCH_AND_ADD ||
	    op->opcode == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.remote_addr = op->raddr;
		wr.wr.atomic.rkey = op->rkey;
		wr.wr.atomic.compare_add = op->compare_add;
		wr.wr.atomic.swap = op->swap;
	} else if (op->opcode != IBV_WR_SEND) {
		wr.wr.rdma.remote_addr = op->raddr;
		wr.wr.rdma.rkey = op->rkey;
	}
	err = ibv_post_send(qp, &wr, &bad);
	if (err) {
		fail(r, "ibv_post_send(%s): %s", op_name(op->opcode), strerror(err));
		return 0;
	}
	return wr.wr_id;
}

static uint64_t post_recv(struct rig *r, struct ibv_qp *qp, struct ibv_mr *mr,
			  void *addr, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = ++r->next_id, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int err = ibv_post_recv(qp, &wr, &bad);

	if (err) {
		fail(r, "ibv_post_recv: %s", strerror(err));
		return 0;
	}
	return wr.wr_id;
}

/*
 * Run OP on QP 0 against QP 1 and wait for its completion.  Returns the
 * completion's status, or -1 (and the reason) when it could not be posted
 * or did not complete.
 */
static int run(struct rig *r, const struct op *op)
{
	struct ibv_wc wc;
	uint64_t id = post(r, r->qp[0], op);

	if (!id)
		return -1;
	if (wait_wc(r, id, &wc, CQ_TIMEOUT_S))
		return fail_in(r, op_name(op->opcode));
	return wc.status;
}

/* Run OP, which must succeed. */
static int run_ok(struct rig *r, const struct op *op, const char *what)
{
	int st = run(r, op);

	if (st < 0)
		return fail_in(r, what);
	if (st != IBV_WC_SUCCESS)
		return fail(r, "%s: %s completed with %s", what,
			    op_name(op->opcode), ibv_wc_status_str(st));
	return 0;
}

/*
 * Run OP, which must complete with an error (any but success), in bounded
 * time; then reconnect the QPs, which the error left in the error state.
 */
static int run_refused(struct rig *r, const struct op *op, const char *what)
{
	int st = run(r, op);

	if (st < 0)
		return fail_in(r, what);
	if (st == IBV_WC_SUCCESS)
		return fail(r, "%s: %s succeeded", what, op_name(op->opcode));
	info("%s: %s completed with %s (%d)", what, op_name(op->opcode),
	     ibv_wc_status_str(st), st);
	return pair_open(r);
}

static struct op rdma_op(enum ibv_wr_opcode opcode, struct ibv_mr *lmr,
			 void *laddr, uint32_t len, struct ibv_mr *rmr,
			 uint64_t roff)
{
	struct op op = {
		.opcode = opcode, .mr = lmr, .addr = laddr, .len = len,
		.raddr = (uintptr_t)rmr->addr + roff,
		.rkey = rmr->rkey,
	};

	return op;
}

/* WRITE LEN bytes from SRC into RMR at ROFF; READ them back into BACK. */
static int write_read_back(struct rig *r, struct ibv_mr *src, struct ibv_mr *rmr,
			   uint64_t roff, struct ibv_mr *back, size_t len,
			   int iter, const char *what)
{
	struct op op;

	fill(src->addr, len, iter);
	op = rdma_op(IBV_WR_RDMA_WRITE, src, src->addr, len, rmr, roff);
	if (run_ok(r, &op, what))
		return -1;
	memset(back->addr, 0xa5, len);
	op = rdma_op(IBV_WR_RDMA_READ, back, back->addr, len, rmr, roff);
	if (run_ok(r, &op, what))
		return -1;
	return check(r, what, back->addr, len, iter);
}

/* ---- cases ----------------------------------------------------------- */

/*
 * WRITE into a fresh mapping never touched (the faults come from the
 * responder), READ it back into another ODP buffer (the completer), three
 * times with different data; the first READ, before any WRITE, must see
 * zeros.
 */
static int case_write_read(struct rig *r)
{
	uint8_t *dst = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = malloc(BUF_LEN);
	struct ibv_mr *dmr, *bmr, *smr;
	struct op op;

	if (!dst || !back || !src)
		return fail(r, "out of memory");
	/* the source is never ODP: the fault paths under test are remote */
	if (!(dmr = reg(r, dst, BUF_LEN, ODP_ACCESS)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(smr = reg_pinned(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;

	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, dmr, 0);
	if (run_ok(r, &op, "read of untouched memory") ||
	    check(r, "read of untouched memory", back, BUF_LEN, -1))
		return -1;
	for (int it = 1; it <= 3; it++) {
		if (write_read_back(r, smr, dmr, 0, bmr, BUF_LEN, it, "write/read"))
			return -1;
		/* and what the CPU sees */
		if (check(r, "written memory", dst, BUF_LEN, it))
			return -1;
	}
	return 0;
}

/* SEND from an ODP buffer into an ODP receive buffer, both directions. */
static int case_send_recv(struct rig *r)
{
	uint8_t *a = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *b = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *amr, *bmr;
	struct ibv_wc wc;

	if (!a || !b)
		return fail(r, "out of memory");
	if (!(amr = reg(r, a, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, b, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	for (int it = 1; it <= 4; it++) {
		/* odd: qp0 sends a to qp1's b; even: qp1 sends b to a */
		int dir = it & 1;
		struct ibv_qp *sq = r->qp[dir ? 0 : 1], *rq = r->qp[dir ? 1 : 0];
		struct ibv_mr *smr = dir ? amr : bmr, *rmr = dir ? bmr : amr;
		struct op op = {
			.opcode = IBV_WR_SEND, .mr = smr, .addr = smr->addr,
			.len = BUF_LEN,
		};
		uint64_t rid, sid;

		fill(smr->addr, BUF_LEN, it);
		if (it > 2)	/* the first receives land in untouched pages */
			memset(rmr->addr, 0xa5, BUF_LEN);
		rid = post_recv(r, rq, rmr, rmr->addr, BUF_LEN);
		if (!rid)
			return -1;
		sid = post(r, sq, &op);
		if (!sid || wait_wc(r, sid, &wc, CQ_TIMEOUT_S))
			return -1;
		if (wc.status != IBV_WC_SUCCESS)
			return fail(r, "send %d: %s", it, ibv_wc_status_str(wc.status));
		if (wait_wc(r, rid, &wc, CQ_TIMEOUT_S))
			return -1;
		if (wc.status != IBV_WC_SUCCESS || wc.byte_len != BUF_LEN)
			return fail(r, "receive %d: %s, %u bytes", it,
				    ibv_wc_status_str(wc.status), wc.byte_len);
		if (check(r, "received data", rmr->addr, BUF_LEN, it))
			return -1;
	}
	return 0;
}

/* One atomic on the word at ROFF of RMR: the old value must be OLD. */
static int atomic_op(struct rig *r, enum ibv_wr_opcode opcode,
		     struct ibv_mr *res, struct ibv_mr *rmr, uint64_t roff,
		     uint64_t compare_add, uint64_t swap, uint64_t old)
{
	uint64_t *got = res->addr;
	struct op op = rdma_op(opcode, res, res->addr, 8, rmr, roff);

	op.compare_add = compare_add;
	op.swap = swap;
	*got = 0xdeadbeefdeadbeefull;
	if (run_ok(r, &op, "atomic"))
		return -1;
	if (*got != old)
		return fail(r, "%s returned 0x%llx, not 0x%llx", op_name(opcode),
			    (unsigned long long)*got, (unsigned long long)old);
	return 0;
}

/*
 * Fetch-add and compare-swap on a word in the second page of an ODP MR,
 * never touched before the first one; the results go into an ODP buffer.
 */
static int case_atomics(struct rig *r)
{
	size_t len = 2 * page_size, off = page_size + 8;
	uint8_t *mem = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *res = map_anon(page_size, PROT_READ | PROT_WRITE);
	struct ibv_mr *mmr, *rmr;
	uint64_t *word = (uint64_t *)(mem + off);
	const uint64_t big = 0x1122334455667788ull;

	if (!mem || !res)
		return fail(r, "out of memory");
	if (!(mmr = reg(r, mem, len, ODP_ACCESS | IBV_ACCESS_REMOTE_ATOMIC)) ||
	    !(rmr = reg(r, res, page_size, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	if (atomic_op(r, IBV_WR_ATOMIC_FETCH_AND_ADD, rmr, mmr, off, 5, 0, 0) ||
	    atomic_op(r, IBV_WR_ATOMIC_CMP_AND_SWP, rmr, mmr, off, 5, big, 5) ||
	    atomic_op(r, IBV_WR_ATOMIC_CMP_AND_SWP, rmr, mmr, off, 7, 9, big) ||
	    atomic_op(r, IBV_WR_ATOMIC_FETCH_AND_ADD, rmr, mmr, off, 1ull << 63, 0, big))
		return -1;
	if (*word != (big ^ (1ull << 63)))
		return fail(r, "the word is 0x%llx, not 0x%llx",
			    (unsigned long long)*word,
			    (unsigned long long)(big ^ (1ull << 63)));
	/* the CPU changes it; the next atomic must see that */
	*word = 41;
	if (atomic_op(r, IBV_WR_ATOMIC_FETCH_AND_ADD, rmr, mmr, off, 1, 0, 41))
		return -1;
	if (*word != 42)
		return fail(r, "the word is %llu, not 42", (unsigned long long)*word);
	return 0;
}

/*
 * MADV_DONTNEED under an ODP MR: the pages go, and what the device reads
 * next must be the new zero pages, not the old data; writes after that
 * must land in the new pages, where the CPU sees them.
 */
static int case_dontneed(struct rig *r)
{
	uint8_t *dst = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *dmr, *bmr, *smr;
	struct op op;

	if (!dst || !back || !src)
		return fail(r, "out of memory");
	if (!(dmr = reg(r, dst, BUF_LEN, ODP_ACCESS)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	for (int it = 1; it <= 3; it++) {
		if (write_read_back(r, smr, dmr, 0, bmr, BUF_LEN, it, "before madvise"))
			return -1;
		if (madvise(dst, BUF_LEN, MADV_DONTNEED))
			return fail(r, "madvise: %s", strerror(errno));
		memset(back, 0xa5, BUF_LEN);
		op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, dmr, 0);
		if (run_ok(r, &op, "read after madvise") ||
		    check(r, "read after madvise", back, BUF_LEN, -1) ||
		    check(r, "memory after madvise", dst, BUF_LEN, -1))
			return -1;
		/* half the pages again, the other half stays zero */
		if (write_read_back(r, smr, dmr, 0, bmr, BUF_LEN / 2, it + 10,
				    "after madvise") ||
		    check(r, "memory after madvise and write", dst, BUF_LEN / 2, it + 10) ||
		    check(r, "memory not written", dst + BUF_LEN / 2, BUF_LEN / 2, -1))
			return -1;
		if (madvise(dst, BUF_LEN, MADV_DONTNEED))
			return fail(r, "madvise: %s", strerror(errno));
	}
	return 0;
}

/*
 * Mistake 9: an ODP MR registered writable over read-only memory.  READs
 * from it succeed and return EXPECT's pattern (< 0: zeros); a remote
 * WRITE must complete with an error within CQ_TIMEOUT_S (not hang, not
 * loop) and change nothing.
 */
static int ro_remote(struct rig *r, uint8_t *ro, size_t len, int expect)
{
	uint8_t *back = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(len, PROT_READ | PROT_WRITE);
	uint8_t *fresh = map_anon(len, PROT_READ);
	struct ibv_mr *mr, *bmr, *smr;
	struct op op;

	if (!back || !src || !fresh)
		return fail(r, "out of memory");
	if (!(mr = reg(r, ro, len, ODP_ACCESS)) ||
	    !(bmr = reg(r, back, len, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(smr = reg(r, src, len, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	memset(back, 0xa5, len);
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, len, mr, 0);
	if (run_ok(r, &op, "read from read-only memory") ||
	    check(r, "read from read-only memory", back, len, expect))
		return -1;
	fill(src, len, 77);
	op = rdma_op(IBV_WR_RDMA_WRITE, smr, src, len, mr, 0);
	if (run_refused(r, &op, "write into read-only memory"))
		return -1;
	/* nothing changed: neither the memory nor the zero page */
	if (check(r, "read-only memory after the write", ro, len, expect) ||
	    check(r, "a fresh mapping after the write", fresh, len, -1))
		return -1;
	/* and the MR still reads */
	memset(back, 0xa5, len);
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, len, mr, 0);
	if (run_ok(r, &op, "read after the refused write") ||
	    check(r, "read after the refused write", back, len, expect))
		return -1;
	return 0;
}

/* An anonymous PROT_READ mapping: the shared zero page. */
static int case_readonly_anon(struct rig *r)
{
	uint8_t *ro = map_anon(BUF_LEN, PROT_READ);

	if (!ro)
		return fail(r, "out of memory");
	return ro_remote(r, ro, BUF_LEN, -1);
}

/* An unlinked file of BUF_LEN bytes of ITER's pattern: its fd, or -1. */
static int pattern_file(struct rig *r, int iter)
{
	char path[] = "/tmp/odp-XXXXXX";
	uint8_t *data = malloc(BUF_LEN);
	int fd = mkstemp(path);

	if (fd < 0 || !data)
		return fail(r, "mkstemp: %s", strerror(errno));
	unlink(path);
	fill(data, BUF_LEN, iter);
	if (write(fd, data, BUF_LEN) != BUF_LEN)
		return fail(r, "write: %s", strerror(errno));
	free(data);
	return fd;
}

/* Check that the file FD holds ITER's pattern. */
static int check_file(struct rig *r, int fd, int iter)
{
	uint8_t *data = malloc(BUF_LEN);
	int ret;

	if (!data || pread(fd, data, BUF_LEN, 0) != BUF_LEN)
		return fail(r, "pread: %s", strerror(errno));
	ret = check(r, "the file", data, BUF_LEN, iter);
	free(data);
	return ret;
}

/* A read-only shared mapping of a file. */
static int case_readonly_file(struct rig *r)
{
	int fd = pattern_file(r, 33), ret;
	uint8_t *ro;

	if (fd < 0)
		return -1;
	ro = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (ro == MAP_FAILED)
		return fail(r, "mmap: %s", strerror(errno));
	ret = ro_remote(r, ro, BUF_LEN, 33);
	if (!ret)
		ret = check_file(r, fd, 33);
	close(fd);
	return ret;
}

/*
 * mprotect(PROT_READ) after registration: the MR's pages were written
 * through it, then the mapping becomes read-only (an invalidation).
 */
static int case_readonly_mprotect(struct rig *r)
{
	uint8_t *buf = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr, *bmr;

	if (!buf || !src || !back)
		return fail(r, "out of memory");
	if (!(mr = reg(r, buf, BUF_LEN, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	if (write_read_back(r, smr, mr, 0, bmr, BUF_LEN, 5, "before mprotect"))
		return -1;
	if (mprotect(buf, BUF_LEN, PROT_READ))
		return fail(r, "mprotect: %s", strerror(errno));
	/* ro_remote() registers another MR on the same pages: both must hold */
	if (ro_remote(r, buf, BUF_LEN, 5))
		return -1;
	return 0;
}

/* A READ whose response lands in read-only local memory: a local error. */
static int case_readonly_local(struct rig *r)
{
	uint8_t *ro = map_anon(BUF_LEN, PROT_READ);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *romr, *smr;
	struct op op;

	if (!ro || !src)
		return fail(r, "out of memory");
	if (!(romr = reg(r, ro, BUF_LEN, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, ODP_ACCESS)))
		return -1;
	fill(src, BUF_LEN, 9);
	op = rdma_op(IBV_WR_RDMA_READ, romr, ro, BUF_LEN, smr, 0);
	if (run_refused(r, &op, "read into read-only memory"))
		return -1;
	return check(r, "read-only memory after the read", ro, BUF_LEN, -1);
}

/* A SEND received into read-only memory: the receive must not succeed. */
static int case_readonly_recv(struct rig *r)
{
	uint8_t *ro = map_anon(BUF_LEN, PROT_READ);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *romr, *smr;
	struct ibv_wc wc;
	struct op op;
	uint64_t rid, sid;

	if (!ro || !src)
		return fail(r, "out of memory");
	if (!(romr = reg(r, ro, BUF_LEN, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	fill(src, BUF_LEN, 10);
	op = (struct op){ .opcode = IBV_WR_SEND, .mr = smr, .addr = src, .len = BUF_LEN };
	rid = post_recv(r, r->qp[1], romr, ro, BUF_LEN);
	if (!rid)
		return -1;
	sid = post(r, r->qp[0], &op);
	if (!sid || wait_wc(r, sid, &wc, CQ_TIMEOUT_S + 5))
		return -1;
	info("send into read-only memory: the send completed with %s",
	     ibv_wc_status_str(wc.status));
	if (wait_wc(r, rid, &wc, CQ_TIMEOUT_S))
		return fail_in(r, "the receive");
	info("the receive completed with %s", ibv_wc_status_str(wc.status));
	if (wc.status == IBV_WC_SUCCESS)
		return fail(r, "a receive into read-only memory succeeded");
	return check(r, "read-only memory after the send", ro, BUF_LEN, -1);
}

/*
 * An MR whose iova is not its address (ibv_reg_mr_iova): the device must
 * translate iova to address, at an offset inside a page and at the end.
 */
static int case_iova(struct rig *r)
{
	uint8_t *buf = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	const uint64_t iova = 0x7e5500000000ull;
	struct ibv_mr *mr, *smr, *bmr;
	struct ibv_mr at;
	const struct { uint64_t off; size_t len; } span[] = {
		{ 0, BUF_LEN }, { 100, 20000 }, { BUF_LEN - 3000, 3000 }, { 4090, 12 },
	};

	if (!buf || !src || !back)
		return fail(r, "out of memory");
	if ((uintptr_t)buf == iova)
		return fail(r, "the buffer is at the iova");
	if (!(mr = reg_iova(r, buf, BUF_LEN, iova, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	/* remote addresses are iovas: a copy of the MR with addr = iova */
	at = *mr;
	at.addr = (void *)(uintptr_t)iova;
	for (size_t i = 0; i < sizeof(span) / sizeof(span[0]); i++) {
		int it = 20 + i;

		if (write_read_back(r, smr, &at, span[i].off, bmr, span[i].len,
				    it, "through the iova") ||
		    check(r, "memory at the address", buf + span[i].off,
			  span[i].len, it))
			return -1;
	}
	return 0;
}

/*
 * New memory at the MR's addresses: munmap and at once a file mapped there
 * (MAP_FIXED), then PROT_NONE memory, then anonymous memory again.  The
 * MR must reach the new pages each time, never the old ones, and refuse
 * access to the PROT_NONE ones.  (No verbs call between munmap and mmap:
 * libibverbs's own mappings could land in the hole.)
 */
static int case_remap(struct rig *r)
{
	uint8_t *buf = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr, *bmr;
	struct op op;
	int fd = pattern_file(r, 44);

	if (!buf || !src || !back)
		return fail(r, "out of memory");
	if (fd < 0)
		return -1;
	if (!(mr = reg(r, buf, BUF_LEN, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	if (write_read_back(r, smr, mr, 0, bmr, BUF_LEN, 1, "before munmap"))
		return -1;

	if (munmap(buf, BUF_LEN) ||
	    mmap(buf, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) != buf)
		return fail(r, "munmap, mmap of a file: %s", strerror(errno));
	memset(back, 0xa5, BUF_LEN);
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, mr, 0);
	if (run_ok(r, &op, "read of the file") ||
	    check(r, "read of the file", back, BUF_LEN, 44))
		return -1;
	if (write_read_back(r, smr, mr, 0, bmr, BUF_LEN, 45, "the file") ||
	    check_file(r, fd, 45))
		return -1;

	if (mmap(buf, BUF_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) != buf)
		return fail(r, "mmap PROT_NONE: %s", strerror(errno));
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, mr, 0);
	if (run_refused(r, &op, "read of PROT_NONE memory"))
		return -1;
	fill(src, BUF_LEN, 46);
	op = rdma_op(IBV_WR_RDMA_WRITE, smr, src, BUF_LEN, mr, 0);
	if (run_refused(r, &op, "write into PROT_NONE memory") ||
	    check_file(r, fd, 45))
		return -1;

	if (mmap(buf, BUF_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != buf)
		return fail(r, "mmap: %s", strerror(errno));
	memset(back, 0xa5, BUF_LEN);
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, mr, 0);
	if (run_ok(r, &op, "read of new memory") ||
	    check(r, "read of new memory", back, BUF_LEN, -1) ||
	    write_read_back(r, smr, mr, 0, bmr, BUF_LEN, 47, "new memory") ||
	    check(r, "new memory", buf, BUF_LEN, 47))
		return -1;
	close(fd);
	return 0;
}

/*
 * fork() under an ODP MR makes the parent's pages copy-on-write.  A
 * remote WRITE must then break COW on the parent's side: the parent (and
 * the MR) see the new data, the child keeps the old, and what the child
 * writes into its copy stays its own.
 */
static int case_fork(struct rig *r)
{
	uint8_t *buf = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr, *bmr;
	struct op op;
	int go[2], status;
	char c = 0;
	pid_t pid;

	if (!buf || !src || !back)
		return fail(r, "out of memory");
	if (!(mr = reg(r, buf, BUF_LEN, ODP_ACCESS)) ||
	    !(smr = reg(r, src, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, back, BUF_LEN, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	if (write_read_back(r, smr, mr, 0, bmr, BUF_LEN, 1, "before fork"))
		return -1;
	if (pipe(go))
		return fail(r, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(r, "fork: %s", strerror(errno));
	if (!pid) {
		/* the child: no verbs; wait for the parent's WRITE */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		if (check(r, "the child's memory", buf, BUF_LEN, 1)) {
			printf("    %s\n", r->why);
			_exit(1);
		}
		fill(buf, BUF_LEN, 2);	/* its own copy */
		_exit(0);
	}
	close(go[0]);
	fill(src, BUF_LEN, 3);
	op = rdma_op(IBV_WR_RDMA_WRITE, smr, src, BUF_LEN, mr, 0);
	if (run_ok(r, &op, "write after fork")) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	if (write(go[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid)
		return fail(r, "the child: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail(r, "the child saw other data than before the fork (status 0x%x)",
			    status);
	memset(back, 0xa5, BUF_LEN);
	op = rdma_op(IBV_WR_RDMA_READ, bmr, back, BUF_LEN, mr, 0);
	if (run_ok(r, &op, "read after fork") ||
	    check(r, "read after the child wrote", back, BUF_LEN, 3) ||
	    check(r, "the parent's memory", buf, BUF_LEN, 3))
		return -1;
	return 0;
}

/*
 * The zapper: MADV_DONTNEED on [addr, addr+len), at most once every
 * ZAP_PAUSE_US, until told to stop.  The pause leaves the faults a window:
 * a fault that sees invalidations for the whole second that
 * ib_umem_odp_map_dma_and_lock() retries fails, and rxe completes the WRITE
 * with an error (no RNR retry of transient faults in v1).  A zapper without
 * a pause made one WRITE fail that way in 1 boot of 4 (vtd-strict, -icount).
 */
struct zapper {
	uint8_t *addr;
	size_t len;
	volatile int stop;
	volatile unsigned long zaps;
	pthread_t thread;
};

static void *zap_loop(void *arg)
{
	struct zapper *z = arg;

	double next = 0, t;

	/* spinning, not sleeping: a timer wakeup can be late by seconds under
	 * QEMU's -icount, and then nothing races */
	while (!z->stop) {
		t = now();
		if (t < next) {
			sched_yield();
			continue;
		}
		madvise(z->addr, z->len, MADV_DONTNEED);
		z->zaps++;
		next = t + ZAP_PAUSE_US / 1e6;
	}
	return NULL;
}

/* Check that every 64-byte chunk of BUF is ITER's pattern or zeros. */
static int check_or_zero(struct rig *r, const uint8_t *buf, size_t len, int iter)
{
	static const uint8_t zero[64];

	for (size_t i = 0; i < len; i += 64) {
		if (!memcmp(buf + i, zero, 64))
			continue;
		for (size_t j = i; j < i + 64; j++)
			if (buf[j] != pattern(j, iter))
				return fail(r, "byte %zu is 0x%02x: neither the data (0x%02x) nor zero",
					    j, buf[j], pattern(j, iter));
	}
	return 0;
}

/*
 * Invalidations racing with traffic: a thread zaps (MADV_DONTNEED) half of
 * an ODP MR while WRITEs and READs go to both halves.  The other half's
 * data must be exact; in the zapped half, every chunk read is the data of
 * this round or zeros (a zap), never older data.
 */
static int case_zap_race(struct rig *r)
{
	const size_t half = BUF_LEN;
	uint8_t *buf = map_anon(2 * half, PROT_READ | PROT_WRITE);
	uint8_t *src = map_anon(half, PROT_READ | PROT_WRITE);
	uint8_t *back = map_anon(half, PROT_READ | PROT_WRITE);
	struct zapper z = { .addr = buf + half, .len = half };
	struct ibv_mr *mr, *smr, *bmr;
	double end;
	int it, ret = 0;
	struct op op;

	if (!buf || !src || !back)
		return fail(r, "out of memory");
	if (!(mr = reg(r, buf, 2 * half, ODP_ACCESS)) ||
	    !(smr = reg(r, src, half, IBV_ACCESS_LOCAL_WRITE)) ||
	    !(bmr = reg(r, back, half, IBV_ACCESS_LOCAL_WRITE)))
		return -1;
	if (pthread_create(&z.thread, NULL, zap_loop, &z))
		return fail(r, "pthread_create failed");
	end = now() + ZAP_SECS;
	for (it = 1; (it <= ZAP_ROUNDS || z.zaps < ZAP_MIN) && now() < end; it++) {
		ret = write_read_back(r, smr, mr, 0, bmr, half, it, "the other half");
		if (ret)
			break;
		fill(src, half, it);
		op = rdma_op(IBV_WR_RDMA_WRITE, smr, src, half, mr, half);
		ret = run_ok(r, &op, "write into the zapped half");
		if (ret)
			break;
		memset(back, 0xa5, half);
		op = rdma_op(IBV_WR_RDMA_READ, bmr, back, half, mr, half);
		ret = run_ok(r, &op, "read of the zapped half") ||
		      check_or_zero(r, back, half, it);
		if (ret)
			break;
	}
	z.stop = 1;
	pthread_join(z.thread, NULL);
	if (!ret)
		info("%d rounds, %lu zaps", it - 1, z.zaps);
	return ret ? -1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(struct rig *r);
	int plain;		/* also meaningful with pinned MRs */
} cases[] = {
	{ "write-read", case_write_read, 1 },
	{ "send-recv", case_send_recv, 1 },
	{ "atomics", case_atomics, 1 },
	{ "dontneed", case_dontneed, 0 },
	{ "readonly-anon", case_readonly_anon, 0 },
	{ "readonly-file", case_readonly_file, 0 },
	{ "readonly-mprotect", case_readonly_mprotect, 0 },
	{ "readonly-local", case_readonly_local, 0 },
	{ "readonly-recv", case_readonly_recv, 0 },
	{ "iova", case_iova, 1 },
	{ "remap", case_remap, 0 },
	{ "fork", case_fork, 0 },
	{ "zap-race", case_zap_race, 0 },
};

/* ---- setup ----------------------------------------------------------- */

/* Open the device NAME (NULL: the first) and its PD; read the GID. */
static int rig_open(struct rig *r, const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	int i;

	if (!list)
		return fail(r, "ibv_get_device_list: %s", strerror(errno));
	for (i = 0; list[i]; i++)
		if (!name || !strcmp(ibv_get_device_name(list[i]), name))
			break;
	if (!list[i])
		return fail(r, "no device %s", name ? name : "at all");
	r->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!r->ctx)
		return fail(r, "ibv_open_device: %s", strerror(errno));
	r->pd = ibv_alloc_pd(r->ctx);
	if (!r->pd)
		return fail(r, "ibv_alloc_pd: %s", strerror(errno));
	r->chan = ibv_create_comp_channel(r->ctx);
	if (!r->chan)
		return fail(r, "ibv_create_comp_channel: %s", strerror(errno));
	if (fcntl(r->chan->fd, F_SETFL, fcntl(r->chan->fd, F_GETFL) | O_NONBLOCK))
		return fail(r, "fcntl: %s", strerror(errno));
	if (ibv_query_gid(r->ctx, PORT, r->gidx, &r->gid))
		return fail(r, "ibv_query_gid(%d): %s", r->gidx, strerror(errno));
	return 0;
}

/* The device's ODP capabilities (general, rc, ud); -1 if it cannot say. */
static int odp_caps(struct rig *r, struct ibv_odp_caps *caps)
{
	struct ibv_device_attr_ex attr;
	int err = ibv_query_device_ex(r->ctx, NULL, &attr);

	memset(caps, 0, sizeof(*caps));
	if (err)
		return fail(r, "ibv_query_device_ex: %s", strerror(err));
	*caps = attr.odp_caps;
	return 0;
}

/* -r: the device must report no ODP and refuse ODP registrations. */
static int expect_refused(struct rig *r)
{
	struct ibv_odp_caps caps;
	void *buf = map_anon(BUF_LEN, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	if (odp_caps(r, &caps))
		return -1;
	if (caps.general_caps & IBV_ODP_SUPPORT)
		return fail(r, "the device reports ODP (general caps 0x%llx)",
			    (unsigned long long)caps.general_caps);
	mr = ibv_reg_mr(r->pd, buf, BUF_LEN, ODP_ACCESS | IBV_ACCESS_ON_DEMAND);
	if (mr)
		return fail(r, "registering an ODP MR succeeded");
	info("no ODP caps; ibv_reg_mr(ON_DEMAND): %s (errno %d)",
	     strerror(errno), errno);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: odp [-d DEV] [-g GIDX] [-p] CASE\n"
			"       odp -l [-p]\n"
			"       odp [-d DEV] -r\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct rig r = { .gidx = 1, .odp = 1 };
	const char *dev = NULL;
	int list = 0, refused = 0, ret, c;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	while ((c = getopt(argc, argv, "d:g:lpr")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'g': r.gidx = atoi(optarg); break;
		case 'l': list = 1; break;
		case 'p': r.odp = 0; break;
		case 'r': refused = 1; break;
		default: usage();
		}
	}
	if (list) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (r.odp || cases[i].plain)
				printf("%s\n", cases[i].name);
		return 0;
	}
	if (refused ? optind != argc : optind != argc - 1)
		usage();
	case_name = refused ? "refused" : argv[optind];
	for (i = 0; !refused && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, case_name))
			break;
	if (!refused && (i == sizeof(cases) / sizeof(cases[0]) ||
			 (!r.odp && !cases[i].plain)))
		usage();

	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	if (rig_open(&r, dev))
		ret = -1;
	else if (refused)
		ret = expect_refused(&r);
	else
		ret = pair_open(&r) ? -1 : cases[i].fn(&r);
	if (ret)
		printf("FAIL %s (%s)\n", case_name, r.why);
	else
		printf("ok %s\n", case_name);
	/* the MRs and mappings go with the process */
	pair_close(&r);
	return ret ? 1 : 0;
}
