# The integration suite: one VM boot runs every tests/integration/*.t and
# reports each assertion as a TAP result. Distributed always; run unless
# configure --disable-vm-tests (make distcheck's configure).
if VM_TESTS
TESTS += tests/vm-suite.sh
endif
# The whole directory, so that every *.t goes into the tarball (a glob here
# would only match in the source directory, never in a VPATH build).
EXTRA_DIST += tests/vm-suite.sh tests/vm/run tests/vm/kernel tests/vm/init \
	tests/vm/guest-setup tests/integration
