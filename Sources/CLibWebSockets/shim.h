// libwebsockets 4.1 (Debian's libwebsockets-dev) as Swift sees it. Macros do not import
// into Swift, so the one we need is restated here as a constant prefixed with the module
// name (the SwiftNIO CNIOLinux pattern).
#ifndef STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H
#define STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H

#include <libwebsockets.h>
#include <ev.h>
#include <stdlib.h>

#if LWS_LIBRARY_VERSION_MAJOR < 4
#error "StreamSocial needs libwebsockets 4.1 or newer"
#endif

/// Headroom every lws_write buffer needs in front of its payload (LWS_PRE).
enum { CLibWebSockets_LWS_PRE = LWS_PRE };

/// A timer of the whole context, not of one connection. libwebsockets hands its callback
/// the list node only; with the node first, that pointer is this struct's, and the
/// callback finds its context.
typedef struct CLibWebSockets_ContextTimer {
    lws_sorted_usec_list_t node;
    struct lws_context *context;
} CLibWebSockets_ContextTimer;

/// The service thread's epoll loop (libev), handed to libwebsockets as a foreign loop so
/// the server runs it one iteration at a time: lws 4.1's own `lws_service()` on an event
/// library runs the loop until `ev_break` and never returns to the server. NULL when
/// libev cannot open an epoll loop.
static inline void *CLibWebSockets_newEventLoop(void) {
    return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
}

/// One iteration: waits for at least one event and handles what is ready.
static inline void CLibWebSockets_runEventLoopOnce(void *loop) {
    ev_run((struct ev_loop *)loop, EVRUN_ONCE);
}

/// Handles what is ready without waiting (after the context is destroyed).
static inline void CLibWebSockets_runEventLoopNoWait(void *loop) {
    ev_run((struct ev_loop *)loop, EVRUN_NOWAIT);
}

static inline void CLibWebSockets_destroyEventLoop(void *loop) {
    ev_loop_destroy((struct ev_loop *)loop);
}

/// A periodic wake-up of libwebsockets on the epoll loop. lws 4.1's libev glue arms its
/// timer for the earliest timeout only when the timer is idle, so a timeout added
/// sooner than the armed one (a request's deadline, a slow client's cut-off) would wait
/// for the later one, up to the 30 s keep-alive; its idle handler, which lws starts
/// after every socket event, runs every timeout that is due. The tick makes that event:
/// `lws_cancel_service` writes lws's own wake-up pipe.
typedef struct CLibWebSockets_Tick {
    ev_timer timer;
    struct lws_context *context;
} CLibWebSockets_Tick;

static void CLibWebSockets_tickFired(struct ev_loop *loop, ev_timer *timer, int events) {
    (void)loop;
    (void)events;
    lws_cancel_service(((CLibWebSockets_Tick *)timer)->context);
}

/// Starts a tick every `seconds` on `loop`; NULL if out of memory.
static inline CLibWebSockets_Tick *CLibWebSockets_startTick(void *loop, struct lws_context *context, double seconds) {
    CLibWebSockets_Tick *tick = (CLibWebSockets_Tick *)calloc(1, sizeof *tick);
    if (!tick) return NULL;
    tick->context = context;
    ev_timer_init(&tick->timer, CLibWebSockets_tickFired, seconds, seconds);
    ev_timer_start((struct ev_loop *)loop, &tick->timer);
    return tick;
}

static inline void CLibWebSockets_stopTick(void *loop, CLibWebSockets_Tick *tick) {
    ev_timer_stop((struct ev_loop *)loop, &tick->timer);
    free(tick);
}

#endif
