# libvenc build, install and checks. `make help` lists the targets.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CARGO ?= cargo
REL := target/release
# The shared library is linked from the static one with venc.map, so only
# venc_* is exported even when a dependency carries a C API of its own.
LIB := target/lib
DESTDIR ?=

.PHONY: all build header check-header install uninstall demo test test-bindings help clean

all: build

build:
	$(CARGO) build --release --lib --bins
	mkdir -p $(LIB)
	cp $(REL)/libvenc.a $(LIB)/libvenc.a
	$(CC) -shared -o $(LIB)/libvenc.so.$(VERSION) -Wl,--whole-archive $(LIB)/libvenc.a -Wl,--no-whole-archive \
		-Wl,--version-script=venc.map -Wl,-soname,libvenc.so.0 -Wl,--gc-sections \
		-lstdc++ -lpthread -ldl -lm -lrt -lutil
	ln -sf libvenc.so.$(VERSION) $(LIB)/libvenc.so.0
	ln -sf libvenc.so.0 $(LIB)/libvenc.so

header:
	cbindgen --config cbindgen.toml --output include/venc.h src/capi/mod.rs 2>/dev/null

# Fails when include/venc.h is not what cbindgen makes from the sources.
check-header:
	@cbindgen --config cbindgen.toml --output target/venc.h.check src/capi/mod.rs 2>/dev/null
	@diff -u include/venc.h target/venc.h.check && echo "venc.h: up to date"

install: build
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/venc $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(LIB)/libvenc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvenc.so.$(VERSION)
	ln -sf libvenc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvenc.so.0
	ln -sf libvenc.so.0 $(DESTDIR)$(LIBDIR)/libvenc.so
	install -m 644 $(LIB)/libvenc.a $(DESTDIR)$(LIBDIR)/libvenc.a
	install -m 644 include/venc.h $(DESTDIR)$(PREFIX)/include/venc.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		pkgconfig/venc.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/venc.pc
	sed -e 's|@VERSION@|$(VERSION)|' cmake/vencConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/venc/vencConfig.cmake
	if [ -x $(REL)/venc ]; then install -m 755 $(REL)/venc $(DESTDIR)$(PREFIX)/bin/venc; fi
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(LIBDIR)/libvenc.so* $(LIBDIR)/libvenc.a $(PREFIX)/include/venc.h \
		$(LIBDIR)/pkgconfig/venc.pc $(LIBDIR)/cmake/venc/vencConfig.cmake $(PREFIX)/bin/venc

# Builds the example against the installed library and encodes a 10 s 720p clip.
demo:
	./scripts/demo

test:
	./scripts/test-all

# Go (go test -race) and Java (JUnit 4) binding tests against target/prefix.
test-bindings:
	./scripts/test-bindings

clean:
	$(CARGO) clean
	rm -rf ctests/build*

help:
	@echo "make [build] | install [PREFIX=/usr/local] | demo | test | test-bindings | header | check-header | uninstall | clean"
