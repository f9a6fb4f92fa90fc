// libwebsockets 4.1 (Debian's libwebsockets-dev) as Swift sees it. Macros do not import
// into Swift, so the few we need are restated here as constants or static inline
// functions prefixed with the module name (the SwiftNIO CNIOLinux pattern).
#ifndef STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H
#define STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H

#include <libwebsockets.h>
#include <signal.h>
#include <pthread.h>

#if LWS_LIBRARY_VERSION_MAJOR < 4
#error "StreamSocial needs libwebsockets 4.1 or newer"
#endif

/// Headroom every lws_write buffer needs in front of its payload (LWS_PRE).
enum { CLibWebSockets_LWS_PRE = LWS_PRE };

/// lws_get_vhost_listen_port's vhost, taken from any wsi of the context.
static inline struct lws_vhost *CLibWebSockets_default_vhost(struct lws_context *ctx) {
    return lws_get_vhost_by_name(ctx, "default");
}

/// Blocks the signals StreamSocial handles in the calling thread, so that only the
/// thread that waits for them (the main thread) receives them. Threads inherit the mask:
/// call before starting librdkafka or lws threads.
static inline int CLibWebSockets_block_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

#endif
