/* Every function with NULL and bad arguments: a status and a message that
 * names the problem, never a crash. */
#include "common.h"

static void expect_msg(venc_encoder *enc, const char *needle) {
    char msg[512];
    size_t n = venc_encoder_last_error(enc, msg, sizeof msg);
    CHECK(n > 0);
    if (!strstr(msg, needle)) {
        fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", msg, needle);
        ct_failures++;
    }
}

int main(void) {
    char buf[256];
    size_t len = 0;
    /* NULL handles and out-pointers. */
    CHECK_EQ(venc_config_new(NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_config_set(NULL, "width", "1"), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_config_get(NULL, "width", buf, sizeof buf, &len), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_new(NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_send_frame(NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_drain(NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_receive_packet(NULL, 0, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_request_keyframe(NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_set_bitrate(NULL, 1000000), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_set_qp(NULL, 20), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_encoder_get_stats(NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_packet_data(NULL, NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_packet_info(NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_packet_copy(NULL, NULL, 0, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_chip_list(NULL, 0, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_chip_caps(NULL, NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_image_encode(NULL, NULL, 0, NULL, NULL, 0), VENC_ERR_NULL_ARG);
    CHECK(venc_encoder_last_error(NULL, buf, sizeof buf) > 0);
    CHECK(venc_config_last_error(NULL, NULL, 0) > 0);

    /* Config keys and values. */
    venc_config *cfg = NULL;
    CHECK_EQ(venc_config_new(&cfg), VENC_OK);
    CHECK_EQ(venc_config_set(cfg, NULL, "1"), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_config_set(cfg, "width", NULL), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_config_set(cfg, "bitrat", "1M"), VENC_ERR_UNKNOWN_KEY);
    venc_config_last_error(cfg, buf, sizeof buf);
    CHECK(strstr(buf, "\"bitrat\"") != NULL);
    CHECK_EQ(venc_config_set(cfg, "qp", "99"), VENC_ERR_BAD_VALUE);
    venc_config_last_error(cfg, buf, sizeof buf);
    CHECK(strstr(buf, "\"qp\"") != NULL);
    CHECK_EQ(venc_config_set(cfg, "codec", "vp9"), VENC_ERR_BAD_VALUE);
    CHECK_EQ(venc_config_set(cfg, "fps", "1/0"), VENC_ERR_BAD_VALUE);
    CHECK_EQ(venc_config_set(cfg, "chip", "nosuchchip"), VENC_ERR_BAD_VALUE);
    CHECK_EQ(venc_config_get(cfg, "nokey", buf, sizeof buf, &len), VENC_ERR_UNKNOWN_KEY);
    CHECK_EQ(venc_config_get(cfg, "codec", buf, 2, &len), VENC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 4);
    CHECK_EQ(venc_config_get(cfg, "codec", buf, sizeof buf, &len), VENC_OK);
    CHECK(strcmp(buf, "h264") == 0);

    /* No size yet: the encoder refuses and says why; *out is untouched. */
    venc_encoder *enc = (venc_encoder *)(uintptr_t)0x1;
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_ERR_INVALID_ARG);
    CHECK(enc == (venc_encoder *)(uintptr_t)0x1);
    venc_config_last_error(cfg, buf, sizeof buf);
    CHECK(strstr(buf, "width") != NULL);
    /* Odd size for H.264, H.265 not built in, chip limits. */
    venc_config_set(cfg, "width", "321");
    venc_config_set(cfg, "height", "240");
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_ERR_BAD_VALUE);
    venc_config_set(cfg, "width", "200");
    venc_config_set(cfg, "chip", "bm1684x"); /* the board encodes >= 256x128 */
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_ERR_BAD_VALUE);
    venc_config_last_error(cfg, buf, sizeof buf);
    CHECK(strstr(buf, "bm1684x") != NULL);
    venc_config_set(cfg, "codec", "h265");
    venc_config_set(cfg, "chip", "generic");
    venc_config_set(cfg, "width", "320");
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_OK); /* H.265 is built in */
    venc_encoder_free(enc);
    venc_config_set(cfg, "codec", "h264");

    enc = NULL;
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_OK);
    CHECK_EQ(venc_encoder_receive_packet(enc, 0, NULL), VENC_ERR_NULL_ARG);
    /* Frames that are wrong in every way. */
    uint8_t *pic = ct_pattern(320, 240, 0);
    venc_frame f = ct_i420_frame(pic, 320, 240);
    f.struct_size = 8;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_STRUCT_SIZE);
    f = ct_i420_frame(pic, 320, 240);
    f.format = 77;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_INVALID_ARG);
    expect_msg(enc, "format");
    f = ct_i420_frame(pic, 320, 240);
    f.planes[1] = NULL;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_NULL_ARG);
    expect_msg(enc, "plane 1");
    f = ct_i420_frame(pic, 320, 240);
    f.strides[0] = 100;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_INVALID_ARG);
    expect_msg(enc, "stride");
    f = ct_i420_frame(pic, 320, 240);
    f.width = 0;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_INVALID_ARG);
    f = ct_i420_frame(pic, 160, 120);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_INVALID_ARG);
    expect_msg(enc, "160x120");
    f = ct_i420_frame(pic, 320, 240);
    f.format = VENC_PIX_NV12; /* a valid NV12 frame, but the config says i420 */
    f.strides[1] = 320;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_ERR_INVALID_ARG);
    expect_msg(enc, "pix_fmt");
    CHECK_EQ(venc_encoder_set_qp(enc, 20), VENC_ERR_INVALID_STATE);
    CHECK_EQ(venc_encoder_set_bitrate(enc, 10), VENC_ERR_BAD_VALUE);
    CHECK_EQ(venc_encoder_set_bitrate(enc, 500000), VENC_OK);
    venc_encoder_stats st = {.struct_size = 3};
    CHECK_EQ(venc_encoder_get_stats(enc, &st), VENC_ERR_STRUCT_SIZE);

    /* Packets: info with a wrong struct_size, copy-out sizes. */
    f = ct_i420_frame(pic, 320, 240);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    CHECK_EQ(venc_encoder_drain(enc), VENC_OK);
    venc_packet *p = NULL;
    CHECK_EQ(venc_encoder_receive_packet(enc, -1, &p), VENC_OK);
    venc_packet_meta m = {.struct_size = 4};
    CHECK_EQ(venc_packet_info(p, &m), VENC_ERR_STRUCT_SIZE);
    size_t needed = 0;
    uint8_t small[4];
    CHECK_EQ(venc_packet_copy(p, small, sizeof small, &needed), VENC_ERR_BUFFER_TOO_SMALL);
    CHECK(needed > sizeof small);
    uint8_t *big = malloc(needed);
    CHECK_EQ(venc_packet_copy(p, big, needed, NULL), VENC_OK);
    const uint8_t *data;
    size_t size;
    CHECK_EQ(venc_packet_data(p, &data, &size), VENC_OK);
    CHECK(size == needed && memcmp(big, data, size) == 0);
    free(big);
    venc_packet_free(p);
    venc_encoder_free(enc);

    /* Chips. */
    size_t count = 0;
    CHECK_EQ(venc_chip_list(NULL, 0, &count), VENC_OK);
    CHECK(count >= 6);
    const char *names[16];
    CHECK_EQ(venc_chip_list(names, 16, &count), VENC_OK);
    venc_caps caps = {.struct_size = sizeof caps};
    for (size_t i = 0; i < count; i++)
        CHECK_EQ(venc_chip_caps(names[i], &caps), VENC_OK);
    CHECK_EQ(venc_chip_caps("k230", &caps), VENC_OK);
    CHECK_EQ(caps.channels, 4);
    CHECK_EQ(caps.max_width, 4096);
    CHECK(caps.pix_fmts & (1u << VENC_PIX_NV12));
    CHECK_EQ(venc_chip_caps("z80", &caps), VENC_ERR_INVALID_ARG);
    caps.struct_size = 1;
    CHECK_EQ(venc_chip_caps("k230", &caps), VENC_ERR_STRUCT_SIZE);

    /* Images. */
    f = ct_i420_frame(pic, 320, 240);
    char err[256] = "";
    CHECK_EQ(venc_image_encode(".gif", &f, 0, &p, err, sizeof err), VENC_ERR_UNSUPPORTED);
    CHECK(strstr(err, ".gif") != NULL);
    CHECK_EQ(venc_image_encode(".jpg", &f, 101, &p, err, sizeof err), VENC_ERR_BAD_VALUE);
    free(pic);
    venc_config_free(cfg);
    venc_config_free(NULL);
    venc_encoder_free(NULL);
    venc_packet_free(NULL);
    return ct_finish("api_misuse");
}
