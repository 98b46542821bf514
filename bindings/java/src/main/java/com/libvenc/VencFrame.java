package com.libvenc;

/**
 * One picture in Java memory: I420/YV12 have three planes (chroma
 * (width+1)/2 x (height+1)/2), NV12/NV21 two, packed RGB and gray one.
 * Planes are copied during the call they are passed to.
 */
public final class VencFrame {
    public VencPixFmt format;
    public int width;
    public int height;
    public byte[][] planes;
    /** Bytes per row of each plane; null or 0 entries mean tightly packed. */
    public int[] strides;
    /** Presentation time; comes back on the packet. */
    public long pts;
    /** Ignore pts: the encoder numbers frames 0, 1, 2, ... */
    public boolean noPts;
    /** Opaque value that comes back on this frame's packets. */
    public long tag;
    /** Code this frame as a keyframe. */
    public boolean keyframe;

    public VencFrame(VencPixFmt format, int width, int height, byte[][] planes, int[] strides) {
        this.format = format;
        this.width = width;
        this.height = height;
        this.planes = planes;
        this.strides = strides;
    }

    /** A tightly packed, zeroed frame. */
    public static VencFrame allocate(VencPixFmt format, int width, int height) {
        int n = format.planeCount();
        byte[][] planes = new byte[n][];
        int[] strides = new int[n];
        for (int i = 0; i < n; i++) {
            strides[i] = format.rowBytes(i, width);
            planes[i] = new byte[strides[i] * format.planeRows(i, height)];
        }
        return new VencFrame(format, width, height, planes, strides);
    }

    int stride(int i) {
        if (strides != null && i < strides.length && strides[i] > 0) return strides[i];
        return format.rowBytes(i, width);
    }

    /** Checks that every plane holds all its rows (C reads them by stride). */
    void validate() {
        if (format == null) throw new VencException(VencException.ERR_INVALID_ARG, "frame format is null");
        if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
            throw new VencException(VencException.ERR_INVALID_ARG,
                    "frame size " + width + "x" + height + " is outside 1..16384");
        int n = format.planeCount();
        if (planes == null || planes.length < n)
            throw new VencException(VencException.ERR_INVALID_ARG, "frame has " + (planes == null ? 0 : planes.length)
                    + " planes but " + format.configName() + " needs " + n);
        for (int i = 0; i < n; i++) {
            int row = format.rowBytes(i, width), stride = stride(i), rows = format.planeRows(i, height);
            if (stride < row)
                throw new VencException(VencException.ERR_INVALID_ARG, "plane " + i + " stride " + stride
                        + " is smaller than the " + row + " bytes a row of " + format.configName() + " needs");
            long need = (long) stride * (rows - 1) + row;
            int have = planes[i] == null ? 0 : planes[i].length;
            if (have < need)
                throw new VencException(VencException.ERR_INVALID_ARG, "plane " + i + " holds " + have + " bytes but "
                        + rows + " rows of stride " + stride + " need " + need);
        }
    }
}
