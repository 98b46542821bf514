package com.libvenc;

/** One coded unit: a Java copy of the bytes plus what came with them. */
public final class VencPacket {
    public static final int FLAG_KEYFRAME = 1;
    public static final int FLAG_HEADER = 2;
    public static final int FLAG_EOS = 4;

    public static final int FRAME_TYPE_NONE = 0;
    public static final int FRAME_TYPE_IDR = 1;
    public static final int FRAME_TYPE_I = 2;
    public static final int FRAME_TYPE_P = 3;
    public static final int FRAME_TYPE_B = 4;

    private final byte[] data;
    private final int flags;
    private final long pts;
    private final long dts;
    private final long tag;
    private final int frameType;

    VencPacket(byte[] data, int flags, long pts, long dts, long tag, int frameType) {
        this.data = data;
        this.flags = flags;
        this.pts = pts;
        this.dts = dts;
        this.tag = tag;
        this.frameType = frameType;
    }

    /** The coded bytes (the array itself, not a copy). */
    public byte[] data() { return data; }
    /** FLAG_* bits. */
    public int flags() { return flags; }
    public long pts() { return pts; }
    public long dts() { return dts; }
    /** The tag of the frame this packet codes. */
    public long tag() { return tag; }
    /** FRAME_TYPE_*; FRAME_TYPE_NONE for header-only and end-of-stream packets. */
    public int frameType() { return frameType; }
    public boolean isKeyframe() { return (flags & FLAG_KEYFRAME) != 0; }
    public boolean isHeader() { return (flags & FLAG_HEADER) != 0; }
    public boolean isEos() { return (flags & FLAG_EOS) != 0; }
    /** True when the packet codes a picture (not just headers or the end). */
    public boolean isPicture() { return frameType != FRAME_TYPE_NONE; }
}
