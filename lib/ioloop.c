/*
 * Event loop (see ioloop.h). Removal is always safe from inside a callback:
 * removed ios are only marked during an epoll batch and freed after it, and
 * a timer callback never touches its timer after calling it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

#define IOLOOP_MAX_EVENTS 128

struct io {
	int fd;
	uint32_t events;
	bool removed;
	io_callback_t *cb;
	void *ctx;
	struct io *next_removed;
};

struct timeout {
	uint64_t deadline;
	unsigned int interval;
	bool repeat;
	size_t heap_index; /* SIZE_MAX when not armed */
	timeout_callback_t *cb;
	void *ctx;
};

struct signal_handler {
	signal_callback_t *cb;
	void *ctx;
};

static struct {
	int epfd;
	bool running;
	uint64_t now_ms;
	struct io *removed;
	struct timeout **heap;
	size_t heap_count, heap_alloc;
	int sigfd;
	struct io *sig_io;
	sigset_t sigmask;
	struct signal_handler handlers[_NSIG];
} loop = {.epfd = -1, .sigfd = -1};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ioloop_init(void)
{
	loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop.epfd < 0)
		fatal("epoll_create1() failed: %m");
	loop.now_ms = monotonic_ms();
	sigemptyset(&loop.sigmask);
	(void)signal(SIGPIPE, SIG_IGN);
}

static void io_free_removed(void)
{
	while (loop.removed != NULL) {
		struct io *io = loop.removed;

		loop.removed = io->next_removed;
		free(io);
	}
}

void ioloop_deinit(void)
{
	if (loop.sig_io != NULL)
		io_remove(&loop.sig_io);
	io_free_removed();
	if (loop.sigfd >= 0)
		close(loop.sigfd);
	loop.sigfd = -1;
	if (loop.heap_count != 0)
		panic("ioloop_deinit: %zu timeouts still armed", loop.heap_count);
	I_FREE(loop.heap);
	loop.heap_alloc = 0;
	close(loop.epfd);
	loop.epfd = -1;
}

int ioloop_fd(void)
{
	return loop.epfd;
}

uint64_t ioloop_now_ms(void)
{
	return loop.now_ms;
}

uint64_t ioloop_refresh_now(void)
{
	loop.now_ms = monotonic_ms();
	return loop.now_ms;
}

void ioloop_stop(void)
{
	loop.running = false;
}

struct io *io_add(int fd, uint32_t events, io_callback_t *cb, void *ctx)
{
	struct io *io = i_calloc(1, sizeof(*io));
	struct epoll_event ev = {.events = events, .data.ptr = io};

	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->ctx = ctx;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		panic("epoll_ctl(ADD, %d) failed: %m", fd);
	return io;
}

void io_set_events(struct io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	if (io->events == events)
		return;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		panic("epoll_ctl(MOD, %d) failed: %m", io->fd);
	io->events = events;
}

int io_get_fd(const struct io *io)
{
	return io->fd;
}

void io_remove(struct io **_io)
{
	struct io *io = *_io;

	if (io == NULL)
		return;
	*_io = NULL;
	/* The descriptor may already be closed by the owner: ignore errors. */
	(void)epoll_ctl(loop.epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->removed = true;
	io->next_removed = loop.removed;
	loop.removed = io;
}

/* Timer heap, ordered by deadline. */
static void heap_swap(size_t a, size_t b)
{
	struct timeout *t = loop.heap[a];

	loop.heap[a] = loop.heap[b];
	loop.heap[b] = t;
	loop.heap[a]->heap_index = a;
	loop.heap[b]->heap_index = b;
}

static void heap_up(size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (loop.heap[parent]->deadline <= loop.heap[i]->deadline)
			break;
		heap_swap(i, parent);
		i = parent;
	}
}

static void heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < loop.heap_count && loop.heap[l]->deadline < loop.heap[min]->deadline)
			min = l;
		if (r < loop.heap_count && loop.heap[r]->deadline < loop.heap[min]->deadline)
			min = r;
		if (min == i)
			break;
		heap_swap(i, min);
		i = min;
	}
}

static void heap_insert(struct timeout *to)
{
	if (loop.heap_count == loop.heap_alloc) {
		loop.heap_alloc = loop.heap_alloc == 0 ? 32 : loop.heap_alloc * 2;
		loop.heap = i_realloc_array(loop.heap, loop.heap_alloc, sizeof(*loop.heap));
	}
	to->heap_index = loop.heap_count;
	loop.heap[loop.heap_count++] = to;
	heap_up(to->heap_index);
}

static void heap_delete(struct timeout *to)
{
	size_t i = to->heap_index;

	if (i == SIZE_MAX)
		return;
	loop.heap_count--;
	if (i != loop.heap_count) {
		loop.heap[i] = loop.heap[loop.heap_count];
		loop.heap[i]->heap_index = i;
		heap_down(i);
		heap_up(i);
	}
	to->heap_index = SIZE_MAX;
}

static struct timeout *timeout_new(unsigned int msecs, bool repeat, timeout_callback_t *cb,
				   void *ctx)
{
	struct timeout *to = i_calloc(1, sizeof(*to));

	to->interval = msecs == 0 && repeat ? 1 : msecs;
	to->repeat = repeat;
	to->cb = cb;
	to->ctx = ctx;
	to->deadline = monotonic_ms() + to->interval;
	heap_insert(to);
	return to;
}

struct timeout *timeout_add(unsigned int msecs, timeout_callback_t *cb, void *ctx)
{
	return timeout_new(msecs, false, cb, ctx);
}

struct timeout *timeout_add_repeat(unsigned int msecs, timeout_callback_t *cb, void *ctx)
{
	return timeout_new(msecs, true, cb, ctx);
}

void timeout_reset(struct timeout *to)
{
	heap_delete(to);
	to->deadline = monotonic_ms() + to->interval;
	heap_insert(to);
}

void timeout_remove(struct timeout **_to)
{
	struct timeout *to = *_to;

	if (to == NULL)
		return;
	*_to = NULL;
	heap_delete(to);
	free(to);
}

static void timeouts_run(void)
{
	while (loop.heap_count > 0 && loop.heap[0]->deadline <= loop.now_ms) {
		struct timeout *to = loop.heap[0];

		if (to->repeat) {
			to->deadline = loop.now_ms + to->interval;
			heap_down(0);
		} else {
			/* Disarmed but still owned by the caller, who removes it. */
			heap_delete(to);
		}
		to->cb(to->ctx);
	}
}

static int next_timeout_ms(void)
{
	uint64_t now;

	if (loop.heap_count == 0)
		return -1;
	now = monotonic_ms();
	if (loop.heap[0]->deadline <= now)
		return 0;
	uint64_t diff = loop.heap[0]->deadline - now;
	return diff > 3600 * 1000 ? 3600 * 1000 : (int)diff;
}

static void signal_read(void *ctx, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)ctx;
	(void)events;
	while (read(loop.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo < _NSIG && loop.handlers[signo].cb != NULL)
			loop.handlers[signo].cb(loop.handlers[signo].ctx, signo);
	}
}

void signal_add(int signo, signal_callback_t *cb, void *ctx)
{
	loop.handlers[signo].cb = cb;
	loop.handlers[signo].ctx = ctx;
	sigaddset(&loop.sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop.sigmask, NULL) < 0)
		panic("sigprocmask() failed: %m");
	loop.sigfd = signalfd(loop.sigfd, &loop.sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop.sigfd < 0)
		fatal("signalfd() failed: %m");
	if (loop.sig_io == NULL)
		loop.sig_io = io_add(loop.sigfd, EPOLLIN, signal_read, NULL);
}

void ioloop_child_reset(void)
{
	sigset_t empty;

	for (int i = 1; i < _NSIG; i++) {
		if (loop.handlers[i].cb != NULL)
			(void)signal(i, SIG_DFL);
	}
	(void)signal(SIGPIPE, SIG_DFL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
}

void ioloop_run(void)
{
	struct epoll_event events[IOLOOP_MAX_EVENTS];

	loop.running = true;
	while (loop.running) {
		int n = epoll_wait(loop.epfd, events, IOLOOP_MAX_EVENTS, next_timeout_ms());

		if (n < 0 && errno != EINTR)
			panic("epoll_wait() failed: %m");
		loop.now_ms = monotonic_ms();
		for (int i = 0; i < n && loop.running; i++) {
			struct io *io = events[i].data.ptr;

			if (!io->removed)
				io->cb(io->ctx, events[i].events);
		}
		io_free_removed();
		if (loop.running)
			timeouts_run();
	}
}
