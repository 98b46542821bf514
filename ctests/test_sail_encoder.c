/* The SAIL personality the way the vendor's samples use sail.Encoder: a
 * video encoder writing .mp4 and .h264 files (write N pictures, release),
 * and pic_encode on the picture encoder. FFmpeg decodes every output with
 * no message and the exact frame count; the error codes are checked. */
#include "common.h"

#include <stddef.h>

_Static_assert(sizeof(venc_sail_stats) == 80, "venc_sail_stats size");
_Static_assert(offsetof(venc_sail_stats, queued) == 8, "venc_sail_stats.queued");
_Static_assert(offsetof(venc_sail_stats, waiting) == 72, "venc_sail_stats.waiting");

#define W 320
#define H 240
#define PARAMS "width=320:height=240:bitrate=1000:gop=32:gop_preset=2:framerate=25"

static uint8_t *bgr_pattern(uint32_t w, uint32_t h, uint32_t t) {
    uint8_t *b = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *px = b + ((size_t)y * w + x) * 3;
            px[0] = (uint8_t)(x + 3 * t), px[1] = (uint8_t)(y + t), px[2] = (uint8_t)((x + y) / 2);
        }
    return b;
}

static venc_frame packed_frame(uint32_t format, const uint8_t *buf, uint32_t w, uint32_t h, uint32_t bpp) {
    venc_frame f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.format = format;
    f.width = w;
    f.height = h;
    f.planes[0] = buf;
    f.strides[0] = w * bpp;
    return f;
}

static venc_sail *open_video(const char *path, const char *pix, const char *params, int cache, int policy) {
    venc_sail *enc = NULL;
    char err[512] = "";
    venc_status st = venc_sail_new(path, 0, "h264_bm", pix, params, cache, policy, &enc, err, sizeof err);
    if (st != VENC_OK) {
        fprintf(stderr, "venc_sail_new(%s): %d %s\n", path, st, err);
        ct_failures++;
        return NULL;
    }
    return enc;
}

static void stats(venc_sail *enc, venc_sail_stats *s) {
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    CHECK_EQ(venc_sail_get_stats(enc, s), VENC_OK);
}

/* Writes n BGR pictures (352x288, resized to 320x240) and releases. */
static void video_file(const char *file, uint32_t n) {
    char path[512];
    ct_tmp(file, path, sizeof path);
    venc_sail *enc = open_video(path, "I420", PARAMS, 5, VENC_SAIL_POLICY_BLOCK);
    if (!enc)
        return;
    CHECK_EQ(venc_sail_is_opened(enc), 1);
    char msg[256];
    CHECK_EQ(venc_sail_last_error(enc, msg, sizeof msg), 0); /* no warnings for this enc_params */
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *b = bgr_pattern(352, 288, i);
        venc_frame f = packed_frame(VENC_PIX_BGR24, b, 352, 288, 3);
        CHECK_EQ(venc_sail_video_write(enc, &f), VENC_SAIL_OK);
        free(b);
    }
    CHECK_EQ(venc_sail_release(enc, 0), VENC_OK);
    CHECK_EQ(venc_sail_release(enc, 0), VENC_OK); /* twice is harmless */
    CHECK_EQ(venc_sail_is_opened(enc), 0);
    venc_sail_stats s;
    stats(enc, &s);
    CHECK_EQ(s.queued, n);
    CHECK_EQ(s.written, n);
    CHECK_EQ(s.dropped + s.rejected + s.discarded + s.write_failed + s.encode_failed, 0);
    uint8_t *b = bgr_pattern(W, H, 0);
    venc_frame f = packed_frame(VENC_PIX_BGR24, b, W, H, 3);
    CHECK_EQ(venc_sail_video_write(enc, &f), VENC_SAIL_BAD_CALL); /* released */
    free(b);
    venc_sail_free(enc);
    size_t len = 0;
    uint8_t *dec = ct_decode(path, NULL, &len);
    CHECK_EQ(len, (size_t)n * W * H * 3 / 2);
    free(dec);
}

static void pictures(void) {
    venc_sail *pic = NULL;
    CHECK_EQ(venc_sail_new_picture(&pic), VENC_OK);
    CHECK_EQ(venc_sail_is_opened(pic), 0);
    uint8_t *b = bgr_pattern(W, H, 7);
    venc_frame f = packed_frame(VENC_PIX_BGR24, b, W, H, 3);
    const char *exts[] = {".jpg", ".png", ".bmp"};
    for (int i = 0; i < 3; i++) {
        venc_packet *p = NULL;
        CHECK_EQ(venc_sail_pic_encode(pic, exts[i], &f, &p), VENC_OK);
        const uint8_t *d;
        size_t sz;
        CHECK_EQ(venc_packet_data(p, &d, &sz), VENC_OK);
        char name[64], path[512];
        snprintf(name, sizeof name, "sail_pic%s", exts[i]);
        ct_tmp(name, path, sizeof path);
        FILE *o = fopen(path, "wb");
        fwrite(d, 1, sz, o);
        fclose(o);
        venc_packet_free(p);
        size_t len = 0;
        uint8_t *dec = ct_decode(path, NULL, &len);
        CHECK_EQ(len, (size_t)W * H * 3 / 2);
        free(dec);
    }
    venc_packet *p = NULL;
    CHECK_EQ(venc_sail_pic_encode(pic, ".gif", &f, &p), VENC_ERR_UNSUPPORTED);
    CHECK(p == NULL);
    CHECK_EQ(venc_sail_pic_encode(pic, ".jpg", NULL, &p), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_sail_video_write(pic, &f), VENC_SAIL_BAD_CALL); /* picture encoder */
    CHECK_EQ(venc_sail_release(pic, 0), VENC_OK);
    CHECK(venc_sail_reconnect(pic) < 0);
    venc_sail_free(pic);
    free(b);
}

static void constructor_errors(void) {
    char path[512], err[512];
    ct_tmp("sail_err.mp4", path, sizeof path);
    venc_sail *enc = NULL;
    err[0] = 0;
    CHECK_EQ(venc_sail_new(path, 0, "h264_bm", "I420", "width=320:height", 5, 0, &enc, err, sizeof err), VENC_ERR_BAD_VALUE);
    CHECK(strstr(err, "\"height\"") != NULL);
    CHECK(enc == NULL);
    CHECK_EQ(venc_sail_new(path, 0, "h264_bm", "I420", "width=abc", 5, 0, &enc, err, sizeof err), VENC_ERR_BAD_VALUE);
    CHECK(strstr(err, "abc") != NULL);
    CHECK_EQ(venc_sail_new(path, -1, "h264_bm", "I420", PARAMS, 5, 0, &enc, err, sizeof err), VENC_ERR_INVALID_ARG);
    CHECK_EQ(venc_sail_new(path, 0, "mjpeg", "I420", PARAMS, 5, 0, &enc, err, sizeof err), VENC_ERR_INVALID_ARG);
    CHECK_EQ(venc_sail_new(path, 0, "h264_bm", "BGR", PARAMS, 5, 0, &enc, err, sizeof err), VENC_ERR_INVALID_ARG);
    CHECK_EQ(venc_sail_new("tcp://127.0.0.1:9/x", 0, "h264_bm", "I420", PARAMS, 5, 0, &enc, err, sizeof err), VENC_ERR_UNSUPPORTED);
    CHECK_EQ(venc_sail_new("rtmp://127.0.0.1:1/live/x", 0, "h264_bm", "I420", PARAMS, 5, 0, &enc, err, sizeof err), VENC_ERR_IO);
    CHECK(strstr(err, "connect") != NULL);
    CHECK_EQ(venc_sail_new(NULL, 0, "h264_bm", "I420", PARAMS, 5, 0, &enc, NULL, 0), VENC_ERR_NULL_ARG);
    CHECK_EQ(venc_sail_new(path, 0, "h264_bm", "I420", PARAMS, 5, 0, NULL, NULL, 0), VENC_ERR_NULL_ARG);
    CHECK(enc == NULL);
    /* H.265 opens (its streams are checked in tests/sail.rs). */
    ct_tmp("sail_h265.h265", path, sizeof path);
    venc_status st = venc_sail_new(path, 0, "hevc_bm", "I420", PARAMS, 5, 0, &enc, err, sizeof err);
    CHECK_EQ(st, VENC_OK);
    if (st == VENC_OK)
        venc_sail_free(enc);
    enc = NULL;
    /* Unknown keys are warnings in the error text; the default gop_preset 3
     * (low-delay B) is coded as asked, so it is not one. */
    ct_tmp("sail_warn.mp4", path, sizeof path);
    enc = open_video(path, "I420", "width=320:height=240:colour=2", 5, 0);
    if (enc) {
        char msg[512];
        size_t n = venc_sail_last_error(enc, msg, sizeof msg);
        CHECK(n > 0 && strstr(msg, "\"colour\"") != NULL);
        CHECK(strstr(msg, "B-frames") == NULL);
        venc_sail_free(enc); /* free releases too */
    }
}

static void write_codes(void) {
    char path[512];
    /* BM1684: NV12 cannot be resized -> 9; at the encode size it works. */
    ct_tmp("sail_bm1684.mp4", path, sizeof path);
    venc_sail *enc = open_video(path, "I420", PARAMS ":chip=bm1684", 5, VENC_SAIL_POLICY_BLOCK);
    if (!enc)
        return;
    uint8_t *nv = calloc(640 * 480 * 3 / 2, 1);
    venc_frame f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.format = VENC_PIX_NV12;
    f.width = 640, f.height = 480;
    f.planes[0] = nv, f.planes[1] = nv + 640 * 480;
    f.strides[0] = f.strides[1] = 640;
    CHECK_EQ(venc_sail_video_write(enc, &f), VENC_SAIL_NOT_SUPPORTED);
    char msg[512];
    venc_sail_last_error(enc, msg, sizeof msg);
    CHECK(strstr(msg, "bm1684") != NULL);
    f.width = W, f.height = H;
    f.planes[1] = nv + W * H;
    f.strides[0] = f.strides[1] = W;
    CHECK_EQ(venc_sail_video_write(enc, &f), VENC_SAIL_OK);
    uint8_t *b = bgr_pattern(640, 480, 1);
    venc_frame g = packed_frame(VENC_PIX_BGR24, b, 640, 480, 3);
    CHECK_EQ(venc_sail_video_write(enc, &g), VENC_SAIL_OK); /* BGR is resized */
    CHECK_EQ(venc_sail_video_write(enc, NULL), VENC_SAIL_BAD_CALL);
    CHECK_EQ(venc_sail_video_write(NULL, &g), VENC_SAIL_BAD_CALL);
    venc_sail_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = 8;
    CHECK_EQ(venc_sail_get_stats(enc, &s), VENC_ERR_STRUCT_SIZE);
    CHECK_EQ(venc_sail_release(enc, 0), VENC_OK);
    stats(enc, &s);
    CHECK_EQ(s.written, 2);
    venc_sail_free(enc);
    size_t len = 0;
    uint8_t *dec = ct_decode(path, NULL, &len);
    CHECK_EQ(len, (size_t)2 * W * H * 3 / 2);
    free(dec);

    /* Policy 0 and an unknown policy on a small queue: every result is 0 or
     * the policy's code, and the counters add up. */
    int policies[] = {VENC_SAIL_POLICY_REJECT, 7};
    for (int k = 0; k < 2; k++) {
        ct_tmp(k ? "sail_p7.h264" : "sail_p0.h264", path, sizeof path);
        enc = open_video(path, "I420", PARAMS, 0, policies[k]);
        if (!enc)
            continue;
        int ok = 0, full = 0;
        for (int i = 0; i < 40; i++) {
            int r = venc_sail_video_write(enc, &g);
            if (r == VENC_SAIL_OK)
                ok++;
            else if (r == (k ? VENC_SAIL_UNKNOWN_POLICY : VENC_SAIL_QUEUE_FULL))
                full++;
            else
                CHECK_EQ(r, VENC_SAIL_OK);
        }
        CHECK_EQ(venc_sail_release(enc, 0), VENC_OK);
        stats(enc, &s);
        CHECK_EQ(s.written, ok);
        CHECK_EQ(s.rejected, full);
        printf("policy %d: %d written, %d refused\n", policies[k], ok, full);
        venc_sail_free(enc);
        dec = ct_decode(path, NULL, &len);
        CHECK_EQ(len, (size_t)ok * W * H * 3 / 2);
        free(dec);
    }
    free(b);
    free(nv);
}

int main(void) {
    /* SAIL's video_write codes, unchanged. */
    CHECK_EQ(VENC_SAIL_OK, 0);
    CHECK_EQ(VENC_SAIL_QUEUE_FULL, -1);
    CHECK_EQ(VENC_SAIL_ENCODE_FAILED, -2);
    CHECK_EQ(VENC_SAIL_WRITE_FAILED, -3);
    CHECK_EQ(VENC_SAIL_UNKNOWN_POLICY, -4);
    CHECK_EQ(VENC_SAIL_NOT_SUPPORTED, 9);
    video_file("sail_out.mp4", 30);
    video_file("sail_out.h264", 25);
    pictures();
    constructor_errors();
    write_codes();
    venc_sail_free(NULL);
    return ct_finish("test_sail_encoder");
}
