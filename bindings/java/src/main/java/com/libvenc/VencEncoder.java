package com.libvenc;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A native encoder. One thread may send (sendFrame, drain,
 * requestKeyframe, setBitrate, setQp) while another receives; close()
 * waits for calls in progress.
 *
 * <pre>
 * try (VencConfig cfg = new VencConfig().set("width", 640).set("height", 480);
 *      VencEncoder enc = new VencEncoder(cfg)) {
 *     while (!enc.sendFrame(frame)) write(enc.receivePacket(10));
 *     ...
 *     enc.drain();
 *     for (VencPacket p; (p = enc.receivePacket(-1)) != null; ) write(p);
 * }
 * </pre>
 */
public final class VencEncoder implements AutoCloseable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final Object sendLock = new Object();
    private final VencNative.venc_frame frame = new VencNative.venc_frame();
    private Memory scratch;
    private volatile boolean endOfStream;

    private static final class State implements Runnable {
        volatile Pointer handle;

        State(Pointer handle) {
            this.handle = handle;
        }

        @Override
        public synchronized void run() {
            if (handle != null) {
                VencNative.LIB.venc_encoder_free(handle);
                handle = null;
            }
        }
    }

    /** Makes an encoder from a config (copied: the config may be closed afterwards). */
    public VencEncoder(VencConfig cfg) {
        PointerByReference out = new PointerByReference();
        synchronized (cfg) {
            int st = VencNative.LIB.venc_encoder_new(cfg.handle(), out);
            if (st != 0) throw new VencException(st, cfg.lastError());
        }
        state = new State(out.getValue());
        cleanable = VencConfig.CLEANER.register(this, state);
    }

    private Pointer enter() {
        lock.readLock().lock();
        Pointer h = state.handle;
        if (h == null) {
            lock.readLock().unlock();
            throw new VencException(VencException.ERR_INVALID_STATE, "encoder is closed");
        }
        return h;
    }

    private void leave() {
        lock.readLock().unlock();
    }

    private VencException error(Pointer h, int st) {
        byte[] buf = new byte[1024];
        VencNative.LIB.venc_encoder_last_error(h, buf, new SizeT(buf.length));
        return new VencException(st, VencNative.cString(buf));
    }

    private void check(Pointer h, int st) {
        if (st != 0) throw error(h, st);
    }

    /**
     * Queues one frame (copied before return). Returns false when the
     * queues are full (receive packets, then send again). Throws with
     * status EOF after drain().
     */
    public boolean sendFrame(VencFrame f) {
        Pointer h = enter();
        try {
            synchronized (sendLock) {
                scratch = VencNative.fill(frame, f, scratch);
                int st = VencNative.LIB.venc_encoder_send_frame(h, frame);
                if (st == VencException.AGAIN) return false;
                if (st == VencException.EOF) throw new VencException(st, "the encoder is draining: no more frames");
                check(h, st);
                return true;
            }
        } finally {
            leave();
        }
    }

    /**
     * Takes the next packet: timeoutMs -1 waits, 0 polls, &gt; 0 waits at
     * most that long. Returns null when nothing is ready, or at the end of
     * the stream after drain() (then {@link #isEndOfStream()} is true).
     */
    public VencPacket receivePacket(int timeoutMs) {
        Pointer h = enter();
        try {
            PointerByReference out = new PointerByReference();
            int st = VencNative.LIB.venc_encoder_receive_packet(h, timeoutMs, out);
            if (st == VencException.AGAIN) return null;
            if (st == VencException.EOF) {
                endOfStream = true;
                return null;
            }
            check(h, st);
            Pointer pkt = out.getValue();
            try {
                return VencNative.packet(pkt);
            } finally {
                VencNative.LIB.venc_packet_free(pkt);
            }
        } finally {
            leave();
        }
    }

    /** True once receivePacket has reported the end of the stream. */
    public boolean isEndOfStream() {
        return endOfStream;
    }

    /** Ends the input: the rest is encoded, then an EOS packet, then the end. Idempotent. */
    public void drain() {
        Pointer h = enter();
        try {
            check(h, VencNative.LIB.venc_encoder_drain(h));
        } finally {
            leave();
        }
    }

    /** Codes the next frame that reaches the encoder as a keyframe. */
    public void requestKeyframe() {
        Pointer h = enter();
        try {
            check(h, VencNative.LIB.venc_encoder_request_keyframe(h));
        } finally {
            leave();
        }
    }

    /** Changes the target bitrate (bit/s) of a CBR/VBR encoder from the next frame. */
    public void setBitrate(int bitsPerSecond) {
        Pointer h = enter();
        try {
            check(h, VencNative.LIB.venc_encoder_set_bitrate(h, bitsPerSecond));
        } finally {
            leave();
        }
    }

    /** Changes the QP of a CQP encoder (or the quality 1..100 of MJPEG). */
    public void setQp(int qp) {
        Pointer h = enter();
        try {
            check(h, VencNative.LIB.venc_encoder_set_qp(h, qp));
        } finally {
            leave();
        }
    }

    /** Counters: frames in and out, bytes out, keyframes. */
    public VencNative.venc_encoder_stats stats() {
        Pointer h = enter();
        try {
            VencNative.venc_encoder_stats s = new VencNative.venc_encoder_stats();
            check(h, VencNative.LIB.venc_encoder_get_stats(h, s));
            return s;
        } finally {
            leave();
        }
    }

    /** Stops and frees the encoder, discarding what was not received. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            cleanable.clean();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Encodes one picture as ".jpg"/".jpeg", ".png" or ".bmp" (quality 1..100 for JPEG, 0 = 85). */
    public static byte[] imageEncode(String ext, VencFrame f, int quality) {
        VencNative.venc_frame cf = new VencNative.venc_frame();
        Memory mem = VencNative.fill(cf, f, null);
        PointerByReference out = new PointerByReference();
        byte[] err = new byte[512];
        int st = VencNative.LIB.venc_image_encode(ext, cf, quality, out, err, new SizeT(err.length));
        java.lang.ref.Reference.reachabilityFence(mem);
        if (st != 0) throw new VencException(st, VencNative.cString(err));
        Pointer pkt = out.getValue();
        try {
            return VencNative.packet(pkt).data();
        } finally {
            VencNative.LIB.venc_packet_free(pkt);
        }
    }

    /** Chip profile names ("generic", ...). */
    public static String[] chips() {
        SizeT.ByRef count = new SizeT.ByRef();
        int st = VencNative.LIB.venc_chip_list(null, new SizeT(0), count);
        if (st != 0) throw new VencException(st, "venc_chip_list failed");
        int n = Math.toIntExact(count.getValue());
        if (n == 0) return new String[0];
        Memory names = new Memory((long) n * com.sun.jna.Native.POINTER_SIZE);
        st = VencNative.LIB.venc_chip_list(names, new SizeT(n), count);
        if (st != 0) throw new VencException(st, "venc_chip_list failed");
        return names.getStringArray(0, n);
    }

    /** What the chip called {@code name} accepts; ERR_INVALID_ARG for an unknown name. */
    public static VencNative.venc_caps chipCaps(String name) {
        VencNative.venc_caps caps = new VencNative.venc_caps();
        int st = VencNative.LIB.venc_chip_caps(name, caps);
        if (st != 0) throw new VencException(st, "chip \"" + name + "\" is unknown");
        return caps;
    }

    /** The loaded library's version, "MAJOR.MINOR.PATCH". */
    public static String version() {
        return VencNative.LIB.venc_version();
    }
}
