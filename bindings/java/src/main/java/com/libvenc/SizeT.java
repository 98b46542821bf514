package com.libvenc;

import com.sun.jna.IntegerType;
import com.sun.jna.Native;
import com.sun.jna.ptr.ByReference;

/** C size_t (4 or 8 bytes, as the platform has it). */
public final class SizeT extends IntegerType {
    private static final long serialVersionUID = 1L;

    public SizeT() {
        this(0);
    }

    public SizeT(long value) {
        super(Native.SIZE_T_SIZE, value, true);
    }

    /** A size_t out-parameter. */
    public static final class ByRef extends ByReference {
        public ByRef() {
            super(Native.SIZE_T_SIZE);
            getPointer().setMemory(0, Native.SIZE_T_SIZE, (byte) 0);
        }

        public long getValue() {
            return Native.SIZE_T_SIZE == 8 ? getPointer().getLong(0) : getPointer().getInt(0) & 0xffffffffL;
        }
    }
}
