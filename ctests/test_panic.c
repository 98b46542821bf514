/* The panic boundary: a panic inside an export comes back as
 * VENC_ERR_PANIC and poisons the handle; a panic inside the engine on the
 * worker thread comes back as VENC_ERR_BACKEND. The process survives both.
 * Uses the test-only config key debug_hook. */
#include "common.h"

static venc_encoder *make(const char *where) {
    const char *kv[] = {"width", "64", "height", "64", "debug_hook", where, NULL};
    venc_config *cfg = ct_config(kv);
    venc_encoder *enc = NULL;
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_OK);
    venc_config_free(cfg);
    return enc;
}

int main(void) {
    uint8_t *pic = ct_pattern(64, 64, 0);
    venc_frame f = ct_i420_frame(pic, 64, 64);
    char msg[256];

    venc_encoder *enc = make("panic_send");
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_PANIC);
    venc_encoder_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "panic") != NULL);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_POISONED);
    CHECK_EQ(venc_encoder_drain(enc), VENC_ERR_POISONED);
    venc_encoder_free(enc);

    enc = make("panic_encode");
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    venc_packet *p = NULL;
    CHECK_EQ(venc_encoder_receive_packet(enc, 5000, &p), VENC_ERR_BACKEND);
    CHECK(p == NULL);
    venc_encoder_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "panicked") != NULL);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_BACKEND);
    venc_encoder_free(enc);
    free(pic);
    return ct_finish("panic");
}
