// The librdkafka headers StreamSocial uses, from Debian's librdkafka-dev (2.0.x).
// rdkafka_mock.h is librdkafka's in-process Kafka cluster (experimental API): only
// Sources/Kafka/EmbeddedKafka.swift may use it.
#ifndef STREAMSOCIAL_CRDKAFKA_SHIM_H
#define STREAMSOCIAL_CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#if RD_KAFKA_VERSION < 0x02000000
#error "StreamSocial needs librdkafka 2.0 or newer"
#endif

#endif
