# The integration suite: one VM boot runs every tests/integration/*.t and
# reports each assertion as a TAP result. Distributed always; run unless
# configure --disable-vm-tests (make distcheck's configure).
# `make check VM_SUITE=` runs the native tests alone (scripts/check does, for
# the build whose suite runs in another build's boot).
if VM_TESTS
VM_SUITE = tests/vm-suite.sh
TESTS += $(VM_SUITE)
endif
# The whole directory, so that every *.t goes into the tarball (a glob here
# would only match in the source directory, never in a VPATH build).
EXTRA_DIST += tests/vm-suite.sh tests/vm/run tests/vm/kernel tests/vm/init \
	tests/vm/guest-setup tests/integration
