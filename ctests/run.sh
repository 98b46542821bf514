#!/usr/bin/env bash
# Builds and runs the C tests with CTest: plain, then AddressSanitizer (+LSan),
# then UndefinedBehaviorSanitizer, then valgrind on the quick programs.
#   ctests/run.sh [plain|asan|ubsan|valgrind|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
mode=${1:-all}
lib=${VENC_LIB_DIR:-$root/target/lib}
[ -f "$lib/libvenc.so.0" ] || { echo "build libvenc first (make build)"; exit 1; }
# Programs record the soname; make sure it resolves to this build, not an installed copy.
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
jobs=$(nproc)

run_ctest() { # name sanitize env...
	local name=$1 san=$2; shift 2
	cmake -S . -B "build-$name" -DVENC_LIB_DIR="$lib" -DVENC_SANITIZE="$san" -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build "build-$name" -j"$jobs" >/dev/null
	echo "== ctest ($name)"
	(cd "build-$name" && env "$@" ctest --output-on-failure -j"$jobs")
}

case $mode in plain|all) run_ctest plain "" VENC_NOP=1 ;; esac
case $mode in asan|all)
	# The sanitizer runtime must really be loaded, or the run proves nothing.
	run_ctest asan address ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions="$root/ctests/lsan.supp"
	ldd build-asan/test_abi_layout | grep -q libasan || { echo "ASan runtime not linked"; exit 1; }
	echo "sanitizer runtime: libasan linked" ;;
esac
case $mode in ubsan|all)
	run_ctest ubsan undefined UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	# Same check as ASan: gcc links the UBSan runtime as libubsan.so.
	ldd build-ubsan/test_abi_layout | grep -q libubsan || { echo "UBSan runtime not linked"; exit 1; }
	echo "sanitizer runtime: libubsan linked" ;;
esac
case $mode in valgrind|all)
	echo "== valgrind"
	[ -d build-plain ] || run_ctest plain "" VENC_NOP=1 >/dev/null
	# Every quick program. Left to the sanitizers: test_hobot_encoder (2 s
	# blocking waits) and test_threads (1.5 to 8 min under valgrind's
	# serialized threads). A listed program that is missing is a failure.
	for t in ${VALGRIND_TESTS:-test_abi_layout test_api_misuse test_lifecycle test_image test_k230_venc test_panic test_free_while_blocked test_encode_decode test_threads}; do
		[ -x "build-plain/$t" ] || { echo "valgrind: build-plain/$t is missing"; exit 1; }
		VENC_TEST_TMP="$PWD/build-plain/tmp" valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite "build-plain/$t" >/dev/null
		echo "valgrind $t: clean"
	done ;;
esac
