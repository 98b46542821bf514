package com.libvenc;

/** Input pixel formats (VENC_PIX_*). */
public enum VencPixFmt {
    I420(1, 3), YV12(2, 3), NV12(3, 2), NV21(4, 2), BGR24(5, 1), RGB24(6, 1), BGRA(7, 1), RGBA(8, 1), ARGB(9, 1),
    GRAY8(10, 1);

    final int id;
    private final int planes;

    VencPixFmt(int id, int planes) {
        this.id = id;
        this.planes = planes;
    }

    public int planeCount() {
        return planes;
    }

    /** Bytes of one tightly packed row of {@code plane} at {@code width}. */
    public int rowBytes(int plane, int width) {
        int cw = (width + 1) / 2;
        switch (this) {
            case I420: case YV12: return plane == 0 ? width : cw;
            case NV12: case NV21: return plane == 0 ? width : 2 * cw;
            case BGR24: case RGB24: return 3 * width;
            case BGRA: case RGBA: case ARGB: return 4 * width;
            default: return width;
        }
    }

    /** Rows of {@code plane} at {@code height} (chroma planes are halved). */
    public int planeRows(int plane, int height) {
        return plane == 0 ? height : (height + 1) / 2;
    }

    /** The name the "pix_fmt" config key takes. */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
