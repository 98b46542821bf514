/* The Horizon personality from C, following the libsrcampy sample: encode
 * H.264, then 100 x (send_frame, get_frame, write); FFmpeg decodes exactly
 * 100 frames silently; IDRs (SPS/PPS in-band) at frames 0 and 60. Then the
 * error paths: -1 with a message, the too-small buffer code, timeouts,
 * close, per-handle settings. */
#include "common.h"

#define W 320
#define H 240
#define FS ((size_t)W * H * 3 / 2)

static uint8_t *nv12_pattern(uint32_t t) {
    uint8_t *i420 = ct_pattern(W, H, t);
    uint8_t *nv12 = malloc(FS);
    memcpy(nv12, i420, (size_t)W * H);
    const uint8_t *u = i420 + W * H, *v = u + (W / 2) * (H / 2);
    for (size_t i = 0; i < (size_t)(W / 2) * (H / 2); i++) {
        nv12[W * H + 2 * i] = u[i];
        nv12[W * H + 2 * i + 1] = v[i];
    }
    free(i420);
    return nv12;
}

static int has_sps(const uint8_t *d, size_t n) {
    for (size_t i = 0; i + 3 < n; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && (d[i + 3] & 0x1f) == 7)
            return 1;
    return 0;
}

/* Encodes `frames` frames; returns how many had SPS (records IDR indices). */
static int encode_loop(venc_hobot *enc, int frames, FILE *out, int *idr, int max_idr) {
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    int n_idr = 0;
    for (int i = 0; i < frames; i++) {
        uint8_t *pic = nv12_pattern((uint32_t)i);
        CHECK_EQ(venc_hobot_send_frame(enc, pic, FS), 0);
        free(pic);
        size_t len = 0;
        CHECK_EQ(venc_hobot_get_frame(enc, buf, cap, &len, -1), 0);
        if (has_sps(buf, len)) {
            if (n_idr < max_idr)
                idr[n_idr] = i;
            n_idr++;
        }
        if (out)
            fwrite(buf, 1, len, out);
    }
    free(buf);
    return n_idr;
}

static void sample(void) {
    venc_hobot *enc = NULL;
    CHECK_EQ(venc_hobot_new(&enc), 0);
    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_H264, W, H, 2000), 0);
    char path[512];
    ct_tmp("hobot.h264", path, sizeof path);
    FILE *out = fopen(path, "wb");
    int idr[4] = {-1, -1, -1, -1};
    CHECK_EQ(encode_loop(enc, 100, out, idr, 4), 2);
    CHECK_EQ(idr[0], 0);
    CHECK_EQ(idr[1], 60);
    fclose(out);
    CHECK_EQ(venc_hobot_close(enc), 0);
    venc_hobot_free(enc);
    size_t len = 0;
    uint8_t *dec = ct_decode(path, "h264", &len);
    CHECK_EQ(len, (size_t)W * H * 3 / 2 * 100);
    printf("hobot.h264: %zu frames decoded\n", len / FS);
    free(dec);

    /* MJPEG, and H.265 when this build has it. */
    CHECK_EQ(venc_hobot_new(&enc), 0);
    CHECK_EQ(venc_hobot_set(enc, "quality", "90"), 0);
    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_MJPEG, W, H, 0), 0);
    ct_tmp("hobot.mjpeg", path, sizeof path);
    out = fopen(path, "wb");
    encode_loop(enc, 10, out, idr, 0);
    fclose(out);
    CHECK_EQ(venc_hobot_close(enc), 0);
    dec = ct_decode(path, "mjpeg", &len);
    CHECK_EQ(len, FS * 10);
    free(dec);
    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_H265, W, H, 1000), 0);
    CHECK_EQ(venc_hobot_close(enc), 0);
    venc_hobot_free(enc);
}

static void errors(void) {
    venc_hobot *enc = NULL;
    char msg[256];
    uint8_t *pic = nv12_pattern(0);
    size_t len = 0;
    uint8_t small[8];

    CHECK_EQ(venc_hobot_new(NULL), -1);
    CHECK_EQ(venc_hobot_encode(NULL, 1, W, H, 1000), -1);
    CHECK_EQ(venc_hobot_close(NULL), -1);
    venc_hobot_free(NULL);
    CHECK(venc_hobot_last_error(NULL, msg, sizeof msg) > 0);
    CHECK_EQ(venc_hobot_new(&enc), 0);
    CHECK_EQ(venc_hobot_close(enc), -1); /* never opened */
    venc_hobot_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "never opened") != NULL);
    CHECK_EQ(venc_hobot_send_frame(enc, pic, FS), -1);
    CHECK_EQ(venc_hobot_get_frame(enc, small, sizeof small, &len, 0), -1);
    CHECK_EQ(venc_hobot_encode(enc, 0, W, H, 1000), -1);
    CHECK_EQ(venc_hobot_encode(enc, 1, 8192, H, 1000), -1);
    CHECK_EQ(venc_hobot_encode(enc, 1, -2, H, 1000), -1);
    CHECK_EQ(venc_hobot_set(enc, "nope", "1"), -1);
    venc_hobot_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "unknown key") != NULL);
    CHECK_EQ(venc_hobot_set(enc, NULL, "1"), -1);
    CHECK_EQ(venc_hobot_set(enc, "gop", "abc"), -1);
    CHECK_EQ(venc_hobot_set(enc, "board", "x5"), 0);

    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_H264, W, H, 1000), 0);
    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_H264, W, H, 1000), -1); /* already open */
    CHECK_EQ(venc_hobot_set(enc, "gop", "10"), -1);                         /* after encode */
    CHECK_EQ(venc_hobot_send_frame(enc, pic, FS - 1), -1);
    venc_hobot_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "exactly 115200") != NULL);
    CHECK_EQ(venc_hobot_send_frame(enc, NULL, FS), -1);
    CHECK_EQ(venc_hobot_get_frame(enc, small, sizeof small, &len, 0), -1); /* nothing sent */
    CHECK_EQ(venc_hobot_get_frame(enc, small, sizeof small, &len, 50), -1);
    CHECK_EQ(venc_hobot_send_frame(enc, pic, FS), 0);
    CHECK_EQ(venc_hobot_get_frame(enc, small, sizeof small, NULL, -1), -1);
    len = 0;
    CHECK_EQ(venc_hobot_get_frame(enc, small, sizeof small, &len, -1), VENC_HOBOT_ERR_BUFFER_TOO_SMALL);
    CHECK(len > sizeof small);
    size_t need = 0;
    CHECK_EQ(venc_hobot_get_frame(enc, NULL, 0, &need, 0), VENC_HOBOT_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(need, len);
    uint8_t *big = malloc(need);
    CHECK_EQ(venc_hobot_get_frame(enc, big, need, &len, 0), 0);
    CHECK_EQ(len, need);
    CHECK(has_sps(big, len));
    free(big);

    /* Full queue: send blocks 2 s, then -1; nothing accepted is lost. */
    int sent = 0, rc = 0;
    while (sent < 100 && (rc = venc_hobot_send_frame(enc, pic, FS)) == 0)
        sent++;
    CHECK_EQ(rc, -1);
    venc_hobot_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "stayed full") != NULL);
    uint8_t *buf = malloc(1 << 20);
    for (int i = 0; i < sent; i++)
        CHECK_EQ(venc_hobot_get_frame(enc, buf, 1 << 20, &len, -1), 0);
    free(buf);
    CHECK_EQ(venc_hobot_close(enc), 0);
    CHECK_EQ(venc_hobot_close(enc), -1);

    /* Settings are per handle: gop 10 here, the board's 60 on another. */
    venc_hobot *other = NULL;
    CHECK_EQ(venc_hobot_new(&other), 0);
    CHECK_EQ(venc_hobot_set(enc, "gop", "10"), 0);
    CHECK_EQ(venc_hobot_encode(enc, VENC_HOBOT_TYPE_H264, W, H, 1000), 0);
    CHECK_EQ(venc_hobot_encode(other, VENC_HOBOT_TYPE_H264, W, H, 1000), 0);
    int idr[4];
    CHECK_EQ(encode_loop(enc, 25, NULL, idr, 4), 3);
    CHECK_EQ(encode_loop(other, 25, NULL, idr, 4), 1);
    venc_hobot_free(enc); /* free while open closes it */
    CHECK_EQ(venc_hobot_close(other), 0);
    venc_hobot_free(other);
    free(pic);
}

int main(void) {
    sample();
    errors();
    return ct_finish("hobot_encoder");
}
