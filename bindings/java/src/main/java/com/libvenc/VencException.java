package com.libvenc;

/** A libvenc status code plus the sentence that explains it. */
public class VencException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int AGAIN = 1;
    public static final int EOF = 2;
    public static final int ERR_NULL_ARG = -1;
    public static final int ERR_INVALID_ARG = -2;
    public static final int ERR_INVALID_STATE = -3;
    public static final int ERR_UNSUPPORTED = -4;
    public static final int ERR_UNKNOWN_KEY = -5;
    public static final int ERR_BAD_VALUE = -6;
    public static final int ERR_BUFFER_TOO_SMALL = -7;
    public static final int ERR_NO_MEMORY = -8;
    public static final int ERR_TIMEOUT = -9;
    public static final int ERR_BUSY = -10;
    public static final int ERR_IO = -11;
    public static final int ERR_BACKEND = -12;
    public static final int ERR_STRUCT_SIZE = -13;
    public static final int ERR_PANIC = -14;
    public static final int ERR_POISONED = -15;

    private final int status;

    public VencException(int status, String message) {
        super(message == null || message.isEmpty() ? VencNative.LIB.venc_status_str(status) : message);
        this.status = status;
    }

    /** The venc_status code (VENC_ERR_* values, see the constants). */
    public int status() {
        return status;
    }
}
