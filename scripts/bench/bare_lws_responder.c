/*
 * The ceiling for scripts/bench.sh: the least a libwebsockets HTTP server can do per
 * request. It reads a POST body and answers 201 with a small JSON body, headers and body
 * in one lws_write, keep-alive on. StreamSocial's POST /api/send-message does the same
 * plus validation, a Kafka produce and waiting for the broker's acknowledgement.
 *
 *   cc -O2 -o bare_lws_responder bare_lws_responder.c -lwebsockets
 *   ./bare_lws_responder PORT
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"offset\":0,\"partition\":3,\"seq\":1,\"timestamp\":0,\"user_id\":\"bench\"}";
static volatile int interrupted;

struct session {
	int answer_ready;
};

static int respond(struct lws *wsi)
{
	unsigned char buffer[LWS_PRE + 1024];
	unsigned char *start = buffer + LWS_PRE, *p = start, *end = buffer + sizeof(buffer) - sizeof(body);
	size_t length = sizeof(body) - 1;

	if (lws_add_http_common_headers(wsi, 201, "application/json", length, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	memcpy(p, body, length);
	p += length;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct session *session = (struct session *)user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		session->answer_ready = 0;
		if (!lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) {
			session->answer_ready = 1;
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		session->answer_ready = 1;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!session->answer_ready)
			return 0;
		session->answer_ready = 0;
		return respond(wsi);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static struct lws_protocols protocols[] = {
	{ "bare", callback, sizeof(struct session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void stop(int signal_number)
{
	(void)signal_number;
	interrupted = 1;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *context;

	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = argc > 1 ? atoi(argv[1]) : 8090;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.keepalive_timeout = 30;
	context = lws_create_context(&info);
	if (!context)
		return 1;
	while (!interrupted && lws_service(context, 0) >= 0)
		;
	lws_context_destroy(context);
	return 0;
}
