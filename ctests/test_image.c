/* venc_image_encode: JPEG, PNG and BMP from BGR24, I420 and GRAY8, decoded by
 * FFmpeg. PNG/BMP of RGB input must be lossless. */
#include "common.h"

static void write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

/* Decodes an image to packed bgr24 through FFmpeg. */
static uint8_t *decode_bgr(const char *path, size_t *len) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f rawvideo -pix_fmt bgr24 -", path);
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 22, n = 0, r;
    uint8_t *out = malloc(cap);
    while ((r = fread(out + n, 1, cap - n, p)) > 0)
        n += r;
    CHECK_EQ(pclose(p), 0);
    *len = n;
    return out;
}

int main(void) {
    const uint32_t w = 97, h = 61; /* odd sizes on purpose */
    const uint32_t stride = w * 3 + 5; /* padded rows */
    uint8_t *bgr = calloc((size_t)stride * h, 1);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *px = bgr + (size_t)y * stride + x * 3;
            px[0] = (uint8_t)(x * 2), px[1] = (uint8_t)(y * 4), px[2] = (uint8_t)((x + y) & 0xff);
        }
    venc_frame f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.format = VENC_PIX_BGR24;
    f.width = w;
    f.height = h;
    f.planes[0] = bgr;
    f.strides[0] = stride;
    const char *exts[] = {".png", ".bmp", ".jpg"};
    for (int i = 0; i < 3; i++) {
        venc_packet *p = NULL;
        char err[256] = "";
        venc_status st = venc_image_encode(exts[i], &f, 90, &p, err, sizeof err);
        CHECK_EQ(st, VENC_OK);
        if (st != VENC_OK) {
            fprintf(stderr, "%s: %s\n", exts[i], err);
            continue;
        }
        const uint8_t *d;
        size_t n;
        venc_packet_data(p, &d, &n);
        char path[512], name[32];
        snprintf(name, sizeof name, "image%s", exts[i]);
        write_file(ct_tmp(name, path, sizeof path), d, n);
        venc_packet_free(p);
        size_t len = 0;
        uint8_t *back = decode_bgr(path, &len);
        CHECK_EQ(len, (size_t)w * h * 3);
        if (len == (size_t)w * h * 3) {
            double se = 0;
            int exact = 1;
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w * 3; x++) {
                    double dd = (double)back[(size_t)y * w * 3 + x] - bgr[(size_t)y * stride + x];
                    se += dd * dd;
                    exact &= dd == 0;
                }
            double psnr = se == 0 ? 99 : 10 * log10(255.0 * 255.0 * w * h * 3 / se);
            printf("%s: %zu bytes, PSNR %.2f dB\n", exts[i], n, psnr);
            if (i < 2)
                CHECK(exact); /* PNG and BMP are lossless */
            else
                CHECK(psnr > 30); /* JPEG q90 on a smooth gradient: ~38 dB */
        }
        free(back);
    }
    /* I420 and GRAY8 input. */
    uint8_t *yuv = ct_pattern(64, 48, 0);
    venc_frame y = ct_i420_frame(yuv, 64, 48);
    venc_packet *p = NULL;
    CHECK_EQ(venc_image_encode("jpeg", &y, 0, &p, NULL, 0), VENC_OK);
    venc_packet_free(p);
    y.format = VENC_PIX_GRAY8;
    CHECK_EQ(venc_image_encode(".png", &y, 0, &p, NULL, 0), VENC_OK);
    venc_packet_free(p);
    free(yuv);
    free(bgr);
    return ct_finish("image");
}
