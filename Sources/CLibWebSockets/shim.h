// libwebsockets 4.1 (Debian's libwebsockets-dev) as Swift sees it. Macros do not import
// into Swift, so the one we need is restated here as a constant prefixed with the module
// name (the SwiftNIO CNIOLinux pattern).
#ifndef STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H
#define STREAMSOCIAL_CLIBWEBSOCKETS_SHIM_H

#include <libwebsockets.h>

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

#endif
