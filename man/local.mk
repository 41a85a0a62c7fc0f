# The manual: hand-written roff, one page per program, the configuration
# file and the library.
dist_man_MANS = man/sealmr.1 man/libsealmr.3 man/sealmrd.conf.5 man/sealmrd.8 \
	man/sealmrctl.8

# A page name for every public function, each a .so of libsealmr(3), so that
# "man sealmr_connect" finds it (tests/install/install.sh checks that every
# function of sealmr.h has one). Made, not kept in the tree.
SEALMR_FUNCTION_PAGES = man/sealmr_connect.3 man/sealmr_disconnect.3 \
	man/sealmr_errmsg.3 man/sealmr_list.3 man/sealmr_stat.3 man/sealmr_open.3 \
	man/sealmr_close.3 man/sealmr_grant_get_info.3 man/sealmr_read.3 man/sealmr_write.3 \
	man/sealmr_flush.3 man/sealmr_flush_with.3 man/sealmr_flush_async.3 man/sealmr_buf_reg.3 man/sealmr_buf_dereg.3 \
	man/sealmr_read_async.3 man/sealmr_write_async.3 man/sealmr_batch.3 man/sealmr_fd.3 man/sealmr_poll.3 \
	man/sealmr_wait.3 man/sealmr_atomic_write.3 man/sealmr_cas.3 man/sealmr_fetch_add.3 \
	man/sealmr_set_revoke_cb.3 man/sealmr_set_reconnect_cb.3 man/sealmr_process.3
man_MANS = $(SEALMR_FUNCTION_PAGES)
$(SEALMR_FUNCTION_PAGES):
	$(AM_V_GEN)$(MKDIR_P) $(@D) && echo '.so man3/libsealmr.3' > $@
CLEANFILES += $(SEALMR_FUNCTION_PAGES)
