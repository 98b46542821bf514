package com.libvenc;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Cleaner;

/**
 * Encoder settings as string keys and values: codec, width, height,
 * pix_fmt, fps, rc, bitrate, max_bitrate, qp, gop, profile, header_mode,
 * threads, quality, chip, queue_depth. Not for concurrent use; close it
 * (try-with-resources) when done.
 */
public final class VencConfig implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create();

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private static final class State implements Runnable {
        Pointer handle;

        State(Pointer handle) {
            this.handle = handle;
        }

        @Override
        public synchronized void run() {
            if (handle != null) {
                VencNative.LIB.venc_config_free(handle);
                handle = null;
            }
        }
    }

    /** Defaults: h264, i420, 30 fps, CBR 2 Mbit/s, chip "generic". */
    public VencConfig() {
        PointerByReference out = new PointerByReference();
        int st = VencNative.LIB.venc_config_new(out);
        if (st != 0) throw new VencException(st, "venc_config_new failed");
        state = new State(out.getValue());
        cleanable = CLEANER.register(this, state);
    }

    synchronized Pointer handle() {
        if (state.handle == null) throw new VencException(VencException.ERR_INVALID_STATE, "config is closed");
        return state.handle;
    }

    String lastError() {
        byte[] buf = new byte[1024];
        VencNative.LIB.venc_config_last_error(state.handle, buf, new SizeT(buf.length));
        return VencNative.cString(buf);
    }

    /** Sets one key; throws with ERR_UNKNOWN_KEY or ERR_BAD_VALUE and a message naming the key. */
    public synchronized VencConfig set(String key, String value) {
        int st = VencNative.LIB.venc_config_set(handle(), key, value);
        if (st != 0) throw new VencException(st, lastError());
        return this;
    }

    /** Sets one key to a number. */
    public VencConfig set(String key, long value) {
        return set(key, Long.toString(value));
    }

    /** The effective value of a key; "keys" lists all keys. */
    public synchronized String get(String key) {
        byte[] buf = new byte[128];
        SizeT.ByRef len = new SizeT.ByRef();
        int st = VencNative.LIB.venc_config_get(handle(), key, buf, new SizeT(buf.length), len);
        if (st == VencException.ERR_BUFFER_TOO_SMALL) {
            buf = new byte[Math.toIntExact(len.getValue()) + 1];
            st = VencNative.LIB.venc_config_get(handle(), key, buf, new SizeT(buf.length), len);
        }
        if (st != 0) throw new VencException(st, lastError());
        return VencNative.cString(buf);
    }

    /** Frees the native config; encoders made from it are unaffected. Idempotent. */
    @Override
    public synchronized void close() {
        cleanable.clean();
    }
}
