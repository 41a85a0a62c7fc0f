noinst_LTLIBRARIES += proto/libproto.la
proto_libproto_la_SOURCES = proto/proto.c proto/proto.h
EXTRA_DIST += proto/PROTOCOL.md tests/fuzz/proto-fuzz.c tests/fuzz/run tests/fuzz/make-corpus \
	tests/fuzz/corpus
# tests/fuzz/run's other targets: the daemon's configuration, the seal
# journal, the admin requests. Whole directories, as for tests/fuzz/corpus.
EXTRA_DIST += tests/fuzz/conf-fuzz.c tests/fuzz/corpus-conf \
	tests/fuzz/journal-fuzz.c tests/fuzz/corpus-journal \
	tests/fuzz/admin-fuzz.c tests/fuzz/corpus-admin

# The fuzzers (tests/fuzz/run) need clang's libFuzzer: run by hand, not by make check.
if HAVE_CMOCKA
PROTO_UNIT_TESTS = tests/unit/proto/proto-encode tests/unit/proto/proto-decode \
	tests/unit/proto/proto-conn-priv tests/unit/proto/proto-names
check_PROGRAMS += $(PROTO_UNIT_TESTS)
TESTS += $(PROTO_UNIT_TESTS)
PROTO_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
PROTO_UNIT_LDADD = proto/libproto.la $(CMOCKA_LIBS)
tests_unit_proto_proto_encode_SOURCES = tests/unit/proto/proto-encode.c tests/unit/proto/proto-test.h
tests_unit_proto_proto_encode_CFLAGS = $(PROTO_UNIT_CFLAGS)
tests_unit_proto_proto_encode_LDADD = $(PROTO_UNIT_LDADD)
tests_unit_proto_proto_decode_SOURCES = tests/unit/proto/proto-decode.c tests/unit/proto/proto-test.h
tests_unit_proto_proto_decode_CFLAGS = $(PROTO_UNIT_CFLAGS)
tests_unit_proto_proto_decode_LDADD = $(PROTO_UNIT_LDADD)
tests_unit_proto_proto_conn_priv_SOURCES = tests/unit/proto/proto-conn-priv.c \
	tests/unit/proto/proto-test.h
tests_unit_proto_proto_conn_priv_CFLAGS = $(PROTO_UNIT_CFLAGS)
tests_unit_proto_proto_conn_priv_LDADD = $(PROTO_UNIT_LDADD)
tests_unit_proto_proto_names_SOURCES = tests/unit/proto/proto-names.c tests/unit/proto/proto-test.h
tests_unit_proto_proto_names_CFLAGS = $(PROTO_UNIT_CFLAGS)
tests_unit_proto_proto_names_LDADD = $(PROTO_UNIT_LDADD)
endif
