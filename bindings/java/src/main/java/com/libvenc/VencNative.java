package com.libvenc;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;

/**
 * The raw C API of venc.h, mapped with JNA. Use {@link VencConfig} and
 * {@link VencEncoder} instead; this is public only so that tests and tools
 * can reach the struct layouts.
 */
public final class VencNative {
    private VencNative() {}

    /** The loaded library (libvenc.so, found on LD_LIBRARY_PATH or jna.library.path). */
    public static final Lib LIB = Native.load("venc", Lib.class);

    /** The functions of venc.h (size_t is {@link SizeT}). */
    public interface Lib extends Library {
        int venc_chip_list(Pointer names, SizeT cap, SizeT.ByRef count);
        int venc_chip_caps(String name, venc_caps caps);
        int venc_image_encode(String ext, venc_frame frame, int quality, PointerByReference out, byte[] err, SizeT errCap);

        int venc_config_new(PointerByReference out);
        int venc_config_set(Pointer cfg, String key, String value);
        int venc_config_get(Pointer cfg, String key, byte[] buf, SizeT cap, SizeT.ByRef len);
        void venc_config_free(Pointer cfg);
        SizeT venc_config_last_error(Pointer cfg, byte[] buf, SizeT cap);

        int venc_encoder_new(Pointer cfg, PointerByReference out);
        int venc_encoder_send_frame(Pointer enc, venc_frame frame);
        int venc_encoder_drain(Pointer enc);
        int venc_encoder_receive_packet(Pointer enc, int timeoutMs, PointerByReference out);
        int venc_encoder_request_keyframe(Pointer enc);
        int venc_encoder_set_bitrate(Pointer enc, int bitsPerSecond);
        int venc_encoder_set_qp(Pointer enc, int qp);
        int venc_encoder_get_stats(Pointer enc, venc_encoder_stats stats);
        SizeT venc_encoder_last_error(Pointer enc, byte[] buf, SizeT cap);
        void venc_encoder_free(Pointer enc);

        int venc_packet_data(Pointer pkt, PointerByReference data, SizeT.ByRef size);
        int venc_packet_info(Pointer pkt, venc_packet_meta info);
        void venc_packet_free(Pointer pkt);

        String venc_status_str(int status);
        String venc_version();
        int venc_abi_version();
    }

    /** struct venc_frame (72 bytes on LP64). */
    @Structure.FieldOrder({"struct_size", "format", "width", "height", "planes", "strides", "flags", "pts", "user_tag"})
    public static class venc_frame extends Structure {
        public int struct_size;
        public int format;
        public int width;
        public int height;
        public Pointer[] planes = new Pointer[3];
        public int[] strides = new int[3];
        public int flags;
        public long pts;
        public long user_tag;

        public venc_frame() {
            struct_size = size();
        }

        /** Byte offset of a field, for layout checks. */
        public int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /** struct venc_packet_meta (48 bytes). */
    @Structure.FieldOrder({"struct_size", "flags", "pts", "dts", "user_tag", "size", "frame_type", "reserved"})
    public static class venc_packet_meta extends Structure {
        public int struct_size;
        public int flags;
        public long pts;
        public long dts;
        public long user_tag;
        public long size;
        public int frame_type;
        public int reserved;

        public venc_packet_meta() {
            struct_size = size();
        }

        /** Byte offset of a field, for layout checks. */
        public int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /** struct venc_encoder_stats (40 bytes). */
    @Structure.FieldOrder({"struct_size", "reserved", "frames_in", "frames_out", "bytes_out", "keyframes"})
    public static class venc_encoder_stats extends Structure {
        public int struct_size;
        public int reserved;
        public long frames_in;
        public long frames_out;
        public long bytes_out;
        public long keyframes;

        public venc_encoder_stats() {
            struct_size = size();
        }
    }

    /** struct venc_caps (56 bytes). */
    @Structure.FieldOrder({"struct_size", "codecs", "pix_fmts", "rc_modes", "min_width", "min_height", "max_width",
            "max_height", "align", "hevc_align", "jpeg_max_width", "jpeg_max_height", "channels", "default_gop"})
    public static class venc_caps extends Structure {
        public int struct_size;
        public int codecs;
        public int pix_fmts;
        public int rc_modes;
        public int min_width;
        public int min_height;
        public int max_width;
        public int max_height;
        public int align;
        public int hevc_align;
        public int jpeg_max_width;
        public int jpeg_max_height;
        public int channels;
        public int default_gop;

        public venc_caps() {
            struct_size = size();
        }
    }

    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Copies a packet's bytes and meta into Java memory; does not free it. */
    static VencPacket packet(Pointer pkt) {
        venc_packet_meta meta = new venc_packet_meta();
        int st = LIB.venc_packet_info(pkt, meta);
        if (st != 0) throw new VencException(st, "venc_packet_info failed");
        PointerByReference data = new PointerByReference();
        SizeT.ByRef size = new SizeT.ByRef();
        st = LIB.venc_packet_data(pkt, data, size);
        if (st != 0) throw new VencException(st, "venc_packet_data failed");
        long n = size.getValue();
        byte[] bytes = n == 0 ? new byte[0] : data.getValue().getByteArray(0, Math.toIntExact(n));
        return new VencPacket(bytes, meta.flags, meta.pts, meta.dts, meta.user_tag, meta.frame_type);
    }

    /**
     * Fills a venc_frame from a checked {@link VencFrame}, copying planes
     * that are byte arrays into {@code scratch} (grown as needed).
     */
    static Memory fill(venc_frame out, VencFrame f, Memory scratch) {
        f.validate();
        long total = 0;
        int n = f.format.planeCount();
        for (int i = 0; i < n; i++) total += f.planes[i].length;
        if (scratch == null || scratch.size() < total) scratch = new Memory(Math.max(total, 1));
        long off = 0;
        out.format = f.format.id;
        out.width = f.width;
        out.height = f.height;
        for (int i = 0; i < 3; i++) {
            if (i < n) {
                scratch.write(off, f.planes[i], 0, f.planes[i].length);
                out.planes[i] = scratch.share(off);
                out.strides[i] = f.stride(i);
                off += f.planes[i].length;
            } else {
                out.planes[i] = null;
                out.strides[i] = 0;
            }
        }
        out.flags = (f.keyframe ? 1 : 0) | (f.noPts ? 2 : 0);
        out.pts = f.pts;
        out.user_tag = f.tag;
        return scratch;
    }
}
