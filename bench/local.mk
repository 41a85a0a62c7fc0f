# Benchmarks. `make bench` runs bench/run in the test VM with this build
# (BENCH_FLAGS=--quick for the short run); the results land in
# bench/results/latest/ of the source tree. bench/rpma-bench is built when
# configure finds librpma, bench/fio/sealmr-fio.so when it is given the fio
# source (--with-fio-src=DIR, bench/fio/get-fio-src).
EXTRA_DIST += bench/README.md bench/run bench/lib.sh bench/stats.awk bench/run-report bench/plot.gp bench/fio/get-fio-src bench/fio/sealmr-fio.c \
	bench/rpma-bench.c examples/fio/sealmr.fio

# What an ODP registration of a grant's size costs (bench/run's grant limit).
noinst_PROGRAMS += bench/regtime
bench_regtime_SOURCES = bench/regtime.c
bench_regtime_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS)
bench_regtime_LDADD = common/libcommon.la $(IBVERBS_LIBS)

if HAVE_LIBRPMA
noinst_PROGRAMS += bench/rpma-bench
bench_rpma_bench_SOURCES = bench/rpma-bench.c
bench_rpma_bench_CFLAGS = $(AM_CFLAGS) $(LIBRPMA_CFLAGS) $(IBVERBS_CFLAGS)
bench_rpma_bench_LDADD = $(LIBRPMA_LIBS) $(IBVERBS_LIBS)
endif

if HAVE_FIO_SRC
# A module fio dlopen()s: shared though not installed (hence the -rpath),
# linked to libsealmr; bench/run points LD_LIBRARY_PATH at client/.libs.
# fio's headers come as system headers: our warnings are for our code.
noinst_LTLIBRARIES += bench/fio/sealmr-fio.la
bench_fio_sealmr_fio_la_SOURCES = bench/fio/sealmr-fio.c
bench_fio_sealmr_fio_la_CPPFLAGS = $(AM_CPPFLAGS) -include $(FIO_SRC)/config-host.h \
	-isystem $(FIO_SRC) -D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64
bench_fio_sealmr_fio_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
bench_fio_sealmr_fio_la_LIBADD = client/libsealmr.la
endif

bench: all
	SEALMR_BUILDDIR='$(abs_top_builddir)' $(top_srcdir)/bench/run $(BENCH_FLAGS)
.PHONY: bench
