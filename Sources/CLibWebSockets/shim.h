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

#endif
