# The numbered examples: the smallest programs a user starts from. Built,
# never installed; each uses only <sealmr/sealmr.h> and libsealmr.
noinst_PROGRAMS += examples/01-read/read examples/02-write-flush/write-flush \
	examples/03-revoke/revoke
examples_01_read_read_SOURCES = examples/01-read/read.c
examples_01_read_read_LDADD = client/libsealmr.la
examples_01_read_read_LDFLAGS = $(LDFLAGS_NOINSTALL)
examples_02_write_flush_write_flush_SOURCES = examples/02-write-flush/write-flush.c
examples_02_write_flush_write_flush_LDADD = client/libsealmr.la
examples_02_write_flush_write_flush_LDFLAGS = $(LDFLAGS_NOINSTALL)
examples_03_revoke_revoke_SOURCES = examples/03-revoke/revoke.c
examples_03_revoke_revoke_LDADD = client/libsealmr.la
examples_03_revoke_revoke_LDFLAGS = $(LDFLAGS_NOINSTALL)
