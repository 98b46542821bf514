/* Encode-and-drain for each codec and rate control: FFmpeg decodes the
 * output with no message, the decoded frame count equals the frames sent,
 * and luma PSNR against the source clears a threshold.
 *
 * Thresholds, from measured minima on this synthetic 320x240 picture:
 * H.264 CQP 22 48.8 dB (threshold 42), CBR/VBR at 1-2 Mbit/s 50.1-50.3 dB
 * (threshold 32: rate control may spend fewer bits on other content),
 * MJPEG q90 53.7 dB after FFmpeg's full-to-limited range conversion
 * (threshold 38); with B pictures (CQP 24) the threshold is 36. A broken colour conversion, a wrong stride or a lost
 * frame drops the minimum below 20 dB, so every threshold catches those. */
#include "common.h"

struct run {
    const char *name;
    const char *kv[16];
    const char *ext, *fmt;
    double min_psnr;
};

/* dts of the previous picture packet of the current case. */
static int64_t last_dts;

/* Writes a packet and counts pictures (header-only and EOS packets are not
 * pictures). Pictures come in decode order: dts rises and never passes pts. */
static void take_packet(venc_packet *p, FILE *out, long *pictures, long *eos) {
    venc_packet_meta m = {.struct_size = sizeof m};
    CHECK_EQ(venc_packet_info(p, &m), VENC_OK);
    const uint8_t *d;
    size_t sz;
    venc_packet_data(p, &d, &sz);
    CHECK_EQ(m.size, sz);
    if (m.flags & VENC_PACKET_EOS) {
        (*eos)++;
        CHECK_EQ(sz, 0);
    } else if (m.frame_type != VENC_FRAME_TYPE_NONE) {
        CHECK_EQ(m.user_tag, 7000 + m.pts);
        CHECK(m.dts <= m.pts);
        CHECK(*pictures == 0 || m.dts > last_dts);
        last_dts = m.dts;
        (*pictures)++;
    }
    fwrite(d, 1, sz, out);
    venc_packet_free(p);
}

static void encode_case(const struct run *r) {
    const uint32_t w = 320, h = 240, n = 40;
    size_t fs = (size_t)w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2);
    venc_config *cfg = ct_config(r->kv);
    venc_encoder *enc = NULL;
    venc_status st = venc_encoder_new(cfg, &enc);
    if (st != VENC_OK) {
        char msg[256];
        venc_config_last_error(cfg, msg, sizeof msg);
        fprintf(stderr, "%s: encoder_new: %s\n", r->name, msg);
        ct_failures++;
        venc_config_free(cfg);
        return;
    }
    venc_config_free(cfg);
    char path[512];
    ct_tmp(r->ext, path, sizeof path);
    FILE *out = fopen(path, "wb");
    uint8_t *src = malloc(fs * n);
    long packets = 0, eos = 0;
    for (uint32_t i = 0; i <= n; i++) {
        if (i < n) {
            uint8_t *pic = ct_pattern(w, h, i);
            memcpy(src + fs * i, pic, fs);
            venc_frame f = ct_i420_frame(pic, w, h);
            f.pts = i;
            f.user_tag = 7000 + i;
            while ((st = venc_encoder_send_frame(enc, &f)) == VENC_AGAIN) {
                venc_packet *p = NULL;
                CHECK_EQ(venc_encoder_receive_packet(enc, 0, &p), VENC_OK); /* never AGAIN on both sides */
                take_packet(p, out, &packets, &eos);
            }
            CHECK_EQ(st, VENC_OK);
            free(pic);
        } else {
            CHECK_EQ(venc_encoder_drain(enc), VENC_OK);
        }
        venc_packet *p = NULL;
        while ((st = venc_encoder_receive_packet(enc, i < n ? 0 : -1, &p)) == VENC_OK)
            take_packet(p, out, &packets, &eos);
        CHECK_EQ(st, i < n ? VENC_AGAIN : VENC_EOF);
    }
    fclose(out);
    CHECK_EQ(packets, n);
    CHECK_EQ(eos, 1);
    venc_encoder_free(enc);
    size_t len = 0;
    uint8_t *dec = ct_decode(path, r->fmt, &len);
    CHECK_EQ(len, fs * n);
    if (dec && len == fs * n) {
        double p = ct_psnr_y_min(src, dec, n, w, h);
        printf("%s: %ld frames, min PSNR-Y %.2f dB (threshold %.0f)\n", r->name, packets, p, r->min_psnr);
        CHECK(p > r->min_psnr);
    }
    free(dec);
    free(src);
}

int main(void) {
    static const struct run runs[] = {
        {"h264-cqp22", {"width", "320", "height", "240", "rc", "cqp", "qp", "22", "gop", "15", NULL}, "cqp.h264", NULL, 42},
        {"h264-cbr-1M", {"width", "320", "height", "240", "bitrate", "1M", "profile", "main", NULL}, "cbr.h264", NULL, 32},
        {"h264-baseline-2threads", {"width", "320", "height", "240", "profile", "baseline", "threads", "2", "rc", "vbr", NULL}, "base.h264", NULL, 32},
        {"h264-separate-headers", {"width", "320", "height", "240", "header_mode", "separate", "gop", "10", NULL}, "sep.h264", NULL, 32},
        {"h264-3b", {"width", "320", "height", "240", "rc", "cqp", "qp", "24", "gop", "15", "bframes", "3", NULL}, "b3.h264", NULL, 36},
        {"h265-2b", {"codec", "h265", "width", "320", "height", "240", "rc", "cqp", "qp", "24", "gop", "15", "bframes", "2", NULL}, "b2.h265", NULL, 36},
        {"h265-lowdelay-b", {"codec", "h265", "width", "320", "height", "240", "bitrate", "1M", "bframes", "lowdelay", NULL}, "ldb.h265", NULL, 32},
        {"mjpeg-q90", {"codec", "mjpeg", "width", "320", "height", "240", "quality", "90", NULL}, "q90.mjpeg", "mjpeg", 38},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        encode_case(&runs[i]);
    return ct_finish("encode_decode");
}
