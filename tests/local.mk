# The integration suite: one VM boot runs every tests/integration/*.t and
# reports each assertion as a TAP result.
TESTS += tests/vm-suite.sh
EXTRA_DIST += tests/vm-suite.sh tests/vm/run tests/vm/kernel tests/vm/init \
	tests/vm/guest-setup tests/integration/run-all tests/integration/lib.sh \
	tests/integration/*.t
