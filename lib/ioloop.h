/*
 * The event loop of every long-running roost process: epoll for descriptors,
 * a timer heap, and signals delivered through signalfd so that handlers run
 * in normal context. One loop per process; processes are single-threaded.
 */
#ifndef ROOST_IOLOOP_H
#define ROOST_IOLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct io;
struct timeout;

typedef void io_callback_t(void *ctx, uint32_t events);
typedef void timeout_callback_t(void *ctx);
typedef void signal_callback_t(void *ctx, int signo);

/* Creates the process's loop. Fatal if epoll is unavailable. */
void ioloop_init(void);
/* Frees the loop; every io and timeout must already be removed. */
void ioloop_deinit(void);
/* Runs callbacks until ioloop_stop() is called. */
void ioloop_run(void);
void ioloop_stop(void);
/* Monotonic milliseconds, refreshed once per loop iteration. */
uint64_t ioloop_now_ms(void);
/* Re-reads the clock (for waits outside the loop) and returns it. */
uint64_t ioloop_refresh_now(void);
/* The epoll descriptor, so a sandbox can be told about it. */
int ioloop_fd(void);

/*
 * Watches fd for events (EPOLLIN, EPOLLOUT, ...). The callback gets the
 * events that fired, including EPOLLHUP/EPOLLERR. flags may include
 * EPOLLEXCLUSIVE for listeners shared between processes.
 */
struct io *io_add(int fd, uint32_t events, io_callback_t *cb, void *ctx);
/* Changes the watched events (not allowed for EPOLLEXCLUSIVE ios). */
void io_set_events(struct io *io, uint32_t events);
int io_get_fd(const struct io *io);
/*
 * Stops watching and frees *io (safe inside callbacks). Call it before
 * closing the descriptor; the descriptor itself is left open.
 */
void io_remove(struct io **io);

/* Calls cb once after msecs milliseconds. */
struct timeout *timeout_add(unsigned int msecs, timeout_callback_t *cb, void *ctx);
/* Calls cb every msecs milliseconds until removed. */
struct timeout *timeout_add_repeat(unsigned int msecs, timeout_callback_t *cb, void *ctx);
/* Restarts a timeout's countdown from now (e.g. an idle timer). */
void timeout_reset(struct timeout *to);
/* Cancels and frees *to (safe from inside its own callback). */
void timeout_remove(struct timeout **to);

/*
 * Delivers signo through the loop. The signal is blocked for the whole
 * process; children must call ioloop_child_reset() after fork to unblock.
 */
void signal_add(int signo, signal_callback_t *cb, void *ctx);
/* In a forked child: restore the default signal mask and dispositions. */
void ioloop_child_reset(void);

#endif
