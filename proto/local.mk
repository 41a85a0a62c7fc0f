noinst_LTLIBRARIES += proto/libproto.la
proto_libproto_la_SOURCES = proto/proto.c proto/proto.h
EXTRA_DIST += proto/PROTOCOL.md
