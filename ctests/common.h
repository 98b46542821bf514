/* Shared helpers for the C tests: checks, a synthetic moving picture, and
 * FFmpeg as the reference decoder. Header-only so each test is one file. */
#ifndef VENC_CTEST_COMMON_H
#define VENC_CTEST_COMMON_H
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <venc.h>

static int ct_failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ct_failures++;                                                       \
        }                                                                        \
    } while (0)

#define CHECK_EQ(a, b)                                                           \
    do {                                                                         \
        long long _a = (long long)(a), _b = (long long)(b);                      \
        if (_a != _b) {                                                          \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); \
            ct_failures++;                                                       \
        }                                                                        \
    } while (0)

static inline int ct_finish(const char *name) {
    if (ct_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, ct_failures);
    else
        printf("%s: all checks passed\n", name);
    return ct_failures ? 1 : 0;
}

static inline const char *ct_tmp(const char *file, char *buf, size_t cap) {
    const char *dir = getenv("VENC_TEST_TMP");
    snprintf(buf, cap, "%s/%s", dir ? dir : "/tmp", file);
    return buf;
}

/* I420 buffer with a moving gradient and a sliding textured box. */
static inline uint8_t *ct_pattern(uint32_t w, uint32_t h, uint32_t t) {
    size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
    uint8_t *buf = malloc((size_t)w * h + 2 * cw * ch);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            unsigned v = ((x + 2 * t) * 255 / w + y * 128 / h);
            uint32_t bx = (t * 3) % w;
            if (x >= bx && x < bx + w / 5 && y > h / 3 && y < h / 3 + h / 4)
                v = 235 - ((x ^ y) & 31);
            buf[(size_t)y * w + x] = (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : v);
        }
    uint8_t *u = buf + (size_t)w * h, *v = u + cw * ch;
    for (size_t y = 0; y < ch; y++)
        for (size_t x = 0; x < cw; x++) {
            u[y * cw + x] = (uint8_t)(128 + (int)((x + t) % 64) - 32);
            v[y * cw + x] = (uint8_t)(128 + (int)((y * 2 + t) % 48) - 24);
        }
    return buf;
}

static inline venc_frame ct_i420_frame(const uint8_t *buf, uint32_t w, uint32_t h) {
    size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
    venc_frame f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.format = VENC_PIX_I420;
    f.width = w;
    f.height = h;
    f.planes[0] = buf;
    f.planes[1] = buf + (size_t)w * h;
    f.planes[2] = buf + (size_t)w * h + cw * ch;
    f.strides[0] = w;
    f.strides[1] = f.strides[2] = (uint32_t)cw;
    return f;
}

static inline venc_config *ct_config(const char *const *kv) {
    venc_config *cfg = NULL;
    if (venc_config_new(&cfg) != VENC_OK)
        return NULL;
    for (; kv && kv[0]; kv += 2) {
        venc_status st = venc_config_set(cfg, kv[0], kv[1]);
        if (st != VENC_OK) {
            char msg[256];
            venc_config_last_error(cfg, msg, sizeof msg);
            fprintf(stderr, "config %s=%s: %s\n", kv[0], kv[1], msg);
            ct_failures++;
        }
    }
    return cfg;
}

/* Runs `ffmpeg -v error` on `path`; returns decoded I420 bytes (malloc'd) and
 * sets *len. Any FFmpeg message counts as a failure. */
static inline uint8_t *ct_decode(const char *path, const char *input_format, size_t *len) {
    char cmd[1024], errpath[600];
    snprintf(errpath, sizeof errpath, "%s.ffmpeg.log", path);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error %s%s -i '%s' -f rawvideo -pix_fmt yuv420p - 2>'%s'",
             input_format ? "-f " : "", input_format ? input_format : "", path, errpath);
    FILE *p = popen(cmd, "r");
    if (!p) {
        ct_failures++;
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *out = malloc(cap);
    size_t r;
    while ((r = fread(out + n, 1, cap - n, p)) > 0) {
        n += r;
        if (n == cap)
            out = realloc(out, cap *= 2);
    }
    int rc = pclose(p);
    FILE *e = fopen(errpath, "r");
    char line[512];
    while (e && fgets(line, sizeof line, e)) {
        fprintf(stderr, "ffmpeg: %s", line);
        ct_failures++;
    }
    if (e)
        fclose(e);
    if (rc != 0) {
        fprintf(stderr, "ffmpeg exited with %d on %s\n", rc, path);
        ct_failures++;
    }
    *len = n;
    return out;
}

/* Lowest per-frame luma PSNR between two I420 sequences of equal length. */
static inline double ct_psnr_y_min(const uint8_t *a, const uint8_t *b, size_t frames, uint32_t w, uint32_t h) {
    size_t cw = (w + 1) / 2, ch = (h + 1) / 2, fs = (size_t)w * h + 2 * cw * ch;
    double worst = INFINITY;
    for (size_t f = 0; f < frames; f++) {
        double se = 0;
        for (size_t i = 0; i < (size_t)w * h; i++) {
            double d = (double)a[f * fs + i] - (double)b[f * fs + i];
            se += d * d;
        }
        double p = se == 0 ? INFINITY : 10.0 * log10(255.0 * 255.0 * (double)w * h / se);
        if (p < worst)
            worst = p;
    }
    return worst;
}
#endif
