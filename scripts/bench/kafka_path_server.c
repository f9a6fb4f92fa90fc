/*
 * The Kafka-path ceiling for scripts/bench.sh: the least a server can do to carry
 * StreamSocial's POST /api/send-message through Kafka on this stack, in C. Per request it
 * does the product's Kafka work and nothing else:
 *
 *   - reads the POST body and takes the value of "user_id" as the record's key (no JSON
 *     parsing, no validation);
 *   - produces the body to user-timeline, keyed by user, with the product's producer
 *     settings (idempotent, acks=all, murmur2_random, linger.ms=1);
 *   - answers 201 with the partition and offset once the delivery report comes, headers
 *     and body in one lws_write;
 *   - meanwhile a consumer group reads user-timeline back (fetch.wait.max.ms=10, as the
 *     product's timeline consumer on the embedded cluster) and counts the records.
 *
 * Kafka is a fresh embedded cluster in this process, shaped like the product's: 3
 * brokers, user-timeline with 6 partitions and 3 replicas, two leaders per broker.
 * Delivery reports arrive on a poller thread and reach the libwebsockets thread through a
 * locked queue and lws_cancel_service, woken only when the queue goes from empty to
 * non-empty.
 *
 *   cc -O2 -o kafka_path_server kafka_path_server.c -lwebsockets -lrdkafka -lpthread
 *   ./kafka_path_server PORT
 *
 * On SIGINT/SIGTERM it prints "produced N acknowledged N read-back N" to stderr, and the
 * time from produce to delivery report ("ack mean M ms p50 P ms over N"): the Kafka part
 * of a request's time, which bench.sh sets against the product's own ack stage.
 */
#define _GNU_SOURCE
#include <libwebsockets.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC "user-timeline"
#define PARTITIONS 6
#define MAX_BODY 4096
#define MAX_SLOTS 65536

static volatile sig_atomic_t interrupted;
static struct lws_context *context;
static rd_kafka_t *producer, *consumer;
static rd_kafka_topic_t *topic;
static long long produced, acknowledged, read_back;

/* One per HTTP connection. A delivery report names its session by slot and generation,
 * so a report for a connection that closed (and whose slot was reused) is dropped. */
struct session {
	struct lws *wsi;
	uint32_t slot, generation;
	size_t body_length;
	int answer_ready;
	int32_t partition;
	int64_t offset;
	int failed;
	char body[MAX_BODY];
};

static struct session *slots[MAX_SLOTS];
static uint32_t generations[MAX_SLOTS];
static uint32_t next_slot;

/* Produce → delivery report, per slot's request in flight; the histogram (10 µs buckets,
 * the last one open) is the poller thread's alone. */
#define ACK_BUCKETS 2000
static uint64_t produced_at[MAX_SLOTS];
static uint64_t ack_buckets[ACK_BUCKETS], ack_total_us, ack_count;

static uint64_t now_us(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

static void print_ack_times(void)
{
	uint64_t seen = 0;
	int p50 = -1;
	for (int i = 0; i < ACK_BUCKETS && p50 < 0; i++) {
		seen += ack_buckets[i];
		if (seen * 2 >= ack_count)
			p50 = i;
	}
	fprintf(stderr, "ack mean %.3f ms p50 %.2f ms over %llu\n", ack_count ? (double)ack_total_us / 1000.0 / (double)ack_count : 0.0,
		p50 < 0 ? 0.0 : (p50 + 1) / 100.0, (unsigned long long)ack_count);
}

/* Delivery reports waiting for the service thread. */
struct report {
	uint32_t slot, generation;
	int32_t partition;
	int64_t offset;
	int failed;
};
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;
static struct report *reports;
static size_t reports_count, reports_capacity;

static uint64_t pack(uint32_t slot, uint32_t generation)
{
	return ((uint64_t)generation << 32) | slot;
}

static int take_slot(struct session *session)
{
	for (uint32_t tries = 0; tries < MAX_SLOTS; tries++) {
		uint32_t slot = (next_slot + tries) % MAX_SLOTS;
		if (!slots[slot]) {
			next_slot = slot + 1;
			slots[slot] = session;
			session->slot = slot;
			session->generation = ++generations[slot];
			return 0;
		}
	}
	return -1;
}

/* On the poller thread. */
static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
	uint64_t token = (uint64_t)(uintptr_t)message->_private;
	struct report report = {
		.slot = (uint32_t)token, .generation = (uint32_t)(token >> 32),
		.partition = message->partition, .offset = message->offset, .failed = message->err != 0,
	};
	int wake;

	(void)rk;
	(void)opaque;
	if (!message->err) {
		uint64_t took = now_us() - __atomic_load_n(&produced_at[report.slot % MAX_SLOTS], __ATOMIC_RELAXED);
		ack_total_us += took;
		ack_count++;
		ack_buckets[took / 10 < ACK_BUCKETS ? took / 10 : ACK_BUCKETS - 1]++;
	}
	pthread_mutex_lock(&reports_lock);
	if (reports_count == reports_capacity) {
		size_t capacity = reports_capacity ? reports_capacity * 2 : 1024;
		struct report *grown = realloc(reports, capacity * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&reports_lock);
			return;
		}
		reports = grown;
		reports_capacity = capacity;
	}
	wake = reports_count == 0;
	reports[reports_count++] = report;
	pthread_mutex_unlock(&reports_lock);
	if (wake)
		lws_cancel_service(context);
}

/* On the service thread: hand each report to its connection. The queue's array is
 * taken whole and the one drained last time given back in its place, so only
 * delivered() ever grows one. */
static void drain_reports(void)
{
	static struct report *taken;
	static size_t taken_capacity;
	struct report *spare = taken;
	size_t spare_capacity = taken_capacity, count;

	pthread_mutex_lock(&reports_lock);
	taken = reports;
	taken_capacity = reports_capacity;
	count = reports_count;
	reports = spare;
	reports_capacity = spare_capacity;
	reports_count = 0;
	pthread_mutex_unlock(&reports_lock);

	for (size_t i = 0; i < count; i++) {
		struct session *session = slots[taken[i].slot % MAX_SLOTS];
		if (!session || session->generation != taken[i].generation)
			continue;
		session->partition = taken[i].partition;
		session->offset = taken[i].offset;
		session->failed = taken[i].failed;
		session->answer_ready = 1;
		acknowledged += !taken[i].failed;
		lws_callback_on_writable(session->wsi);
	}
}

static void *poll_producer(void *unused)
{
	(void)unused;
	while (!interrupted)
		rd_kafka_poll(producer, 100);
	return NULL;
}

static void *read_back_loop(void *unused)
{
	(void)unused;
	while (!interrupted) {
		rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 100);
		if (!message)
			continue;
		if (!message->err)
			__atomic_add_fetch(&read_back, 1, __ATOMIC_RELAXED);
		rd_kafka_message_destroy(message);
	}
	return NULL;
}

/* The key: the characters of "user_id":"..." up to the next quote (no escapes). */
static int user_key(const char *body, size_t length, const char **key, size_t *key_length)
{
	static const char field[] = "\"user_id\":\"";
	const char *start = memmem(body, length, field, sizeof(field) - 1), *end;
	if (!start)
		return -1;
	start += sizeof(field) - 1;
	end = memchr(start, '"', length - (size_t)(start - body));
	if (!end || end == start)
		return -1;
	*key = start;
	*key_length = (size_t)(end - start);
	return 0;
}

static int respond(struct lws *wsi, unsigned int status, const char *json, size_t length)
{
	unsigned char buffer[LWS_PRE + 1024];
	unsigned char *start = buffer + LWS_PRE, *p = start, *end = buffer + sizeof(buffer) - 256;

	if (lws_add_http_common_headers(wsi, status, "application/json", length, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	memcpy(p, json, length);
	p += length;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int produce(struct session *session)
{
	const char *key;
	size_t key_length;

	if (user_key(session->body, session->body_length, &key, &key_length))
		return -1;
	__atomic_store_n(&produced_at[session->slot % MAX_SLOTS], now_us(), __ATOMIC_RELAXED);
	if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, session->body, session->body_length,
			     key, key_length, (void *)(uintptr_t)pack(session->slot, session->generation)))
		return -1;
	produced++;
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct session *session = (struct session *)user;
	char json[128];
	int length;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		drain_reports();
		return 0;
	case LWS_CALLBACK_HTTP:
		if (!session->wsi) {
			session->wsi = wsi;
			if (take_slot(session))
				return -1;
		}
		session->body_length = 0;
		session->answer_ready = 0;
		if (!lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) {
			session->failed = 1;
			session->answer_ready = 1;
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (session->body_length + len > MAX_BODY)
			return -1;
		memcpy(session->body + session->body_length, in, len);
		session->body_length += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* A new request on a kept connection: a late report of the last one must not
		 * answer this one. */
		session->generation = ++generations[session->slot];
		if (produce(session)) {
			session->failed = 1;
			session->answer_ready = 1;
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!session->answer_ready)
			return 0;
		session->answer_ready = 0;
		if (session->failed) {
			session->failed = 0;
			return respond(wsi, 400, "{\"error\":\"bad_request\"}", 23);
		}
		length = snprintf(json, sizeof(json), "{\"partition\":%d,\"offset\":%lld}", session->partition,
				  (long long)session->offset);
		return respond(wsi, 201, json, (size_t)length);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (session && session->wsi && slots[session->slot] == session) {
			slots[session->slot] = NULL;
			generations[session->slot]++;
		}
		if (session)
			session->wsi = NULL;
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static struct lws_protocols protocols[] = {
	{ "kafka-path", callback, sizeof(struct session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void stop(int signal_number)
{
	(void)signal_number;
	interrupted = 1;
	if (context)
		lws_cancel_service(context);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char **settings, char *error, size_t error_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (; settings && settings[0]; settings += 2)
		if (rd_kafka_conf_set(conf, settings[0], settings[1], error, error_size) != RD_KAFKA_CONF_OK) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, delivered);
	return rd_kafka_new(type, conf, error, error_size);
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	char error[512];
	rd_kafka_t *host;
	rd_kafka_mock_cluster_t *cluster;
	rd_kafka_topic_partition_list_t *subscription;
	pthread_t poller, reader;
	const char *bootstraps;

	signal(SIGINT, stop);
	signal(SIGTERM, stop);

	const char *host_settings[] = { "log_level", "3", NULL };
	host = client(RD_KAFKA_CONSUMER, host_settings, error, sizeof(error));
	if (!host || !(cluster = rd_kafka_mock_cluster_new(host, 3)) ||
	    rd_kafka_mock_topic_create(cluster, TOPIC, PARTITIONS, 3)) {
		fprintf(stderr, "embedded cluster: %s\n", error);
		return 1;
	}
	/* Leaders round the brokers, as the product's embedded cluster places them (the
	 * mock's own choice is random, and two brokers instead of three changes the
	 * producer's requests per batch). */
	for (int partition = 0; partition < PARTITIONS; partition++) {
		if (rd_kafka_mock_partition_set_leader(cluster, TOPIC, partition, partition % 3 + 1)) {
			fprintf(stderr, "embedded cluster: no leader for partition %d\n", partition);
			return 1;
		}
	}
	bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);

	const char *producer_settings[] = {
		"bootstrap.servers", bootstraps, "enable.idempotence", "true", "acks", "all",
		"partitioner", "murmur2_random", "linger.ms", "1", "queue.buffering.max.messages", "100000",
		"message.timeout.ms", "5000", NULL,
	};
	const char *consumer_settings[] = {
		"bootstrap.servers", bootstraps, "group.id", "kafka-path-ceiling", "auto.offset.reset", "earliest",
		"fetch.wait.max.ms", "10", "enable.auto.commit", "true", NULL,
	};
	if (!(producer = client(RD_KAFKA_PRODUCER, producer_settings, error, sizeof(error))) ||
	    !(consumer = client(RD_KAFKA_CONSUMER, consumer_settings, error, sizeof(error)))) {
		fprintf(stderr, "clients: %s\n", error);
		return 1;
	}
	topic = rd_kafka_topic_new(producer, TOPIC, NULL);
	rd_kafka_poll_set_consumer(consumer);
	subscription = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(subscription, TOPIC, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(consumer, subscription)) {
		fprintf(stderr, "subscribe failed\n");
		return 1;
	}
	rd_kafka_topic_partition_list_destroy(subscription);

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
	pthread_create(&poller, NULL, poll_producer, NULL);
	pthread_create(&reader, NULL, read_back_loop, NULL);
	while (!interrupted && lws_service(context, 0) >= 0)
		;
	pthread_join(poller, NULL);
	pthread_join(reader, NULL);
	print_ack_times();
	fprintf(stderr, "produced %lld acknowledged %lld read-back %lld\n", produced, acknowledged,
		__atomic_load_n(&read_back, __ATOMIC_RELAXED));
	/* Reports still to come are served by the flush, on this thread: they must find the
	 * context alive, so it goes last. */
	rd_kafka_flush(producer, 2000);
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
	rd_kafka_topic_destroy(topic);
	rd_kafka_destroy(producer);
	lws_context_destroy(context);
	rd_kafka_mock_cluster_destroy(cluster);
	rd_kafka_destroy(host);
	return 0;
}
