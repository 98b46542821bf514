/* Pins the layout of every struct that crosses the ABI. A change here is an
 * ABI break: it needs a new soname. */
#include <stddef.h>
#include "common.h"

#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(venc_frame) == 72, "venc_frame size");
_Static_assert(offsetof(venc_frame, planes) == 16, "venc_frame.planes");
_Static_assert(offsetof(venc_frame, strides) == 40, "venc_frame.strides");
_Static_assert(offsetof(venc_frame, flags) == 52, "venc_frame.flags");
_Static_assert(offsetof(venc_frame, pts) == 56, "venc_frame.pts");
_Static_assert(offsetof(venc_frame, user_tag) == 64, "venc_frame.user_tag");
#endif
_Static_assert(offsetof(venc_frame, struct_size) == 0, "struct_size first");
_Static_assert(sizeof(venc_packet_meta) == 48, "venc_packet_meta size");
_Static_assert(offsetof(venc_packet_meta, pts) == 8, "venc_packet_meta.pts");
_Static_assert(offsetof(venc_packet_meta, size) == 32, "venc_packet_meta.size");
_Static_assert(offsetof(venc_packet_meta, frame_type) == 40, "venc_packet_meta.frame_type");
_Static_assert(sizeof(venc_caps) == 56, "venc_caps size");
_Static_assert(sizeof(venc_encoder_stats) == 40, "venc_encoder_stats size");
_Static_assert(sizeof(venc_status) == 4, "venc_status is int32_t");

int main(void) {
    CHECK_EQ(venc_abi_version(), VENC_ABI_VERSION);
    CHECK(strcmp(venc_version(), VENC_VERSION_STRING) == 0);
    /* Status codes never change. */
    CHECK_EQ(VENC_AGAIN, 1);
    CHECK_EQ(VENC_EOF, 2);
    CHECK_EQ(VENC_ERR_NULL_ARG, -1);
    CHECK_EQ(VENC_ERR_PANIC, -14);
    CHECK(strcmp(venc_status_str(VENC_ERR_UNKNOWN_KEY), "unknown configuration key") == 0);
    CHECK(strcmp(venc_status_str(12345), "unknown status") == 0);
    return ct_finish("abi_layout");
}
