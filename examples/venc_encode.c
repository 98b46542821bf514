/*
 * venc_encode: encode a Y4M (or raw I420) file to an Annex-B H.264/H.265
 * or MJPEG file with libvenc's native API.
 *
 *   cc venc_encode.c $(pkg-config --cflags --libs venc) -o venc_encode
 *   ./venc_encode in.y4m out.h264 [key=value ...]
 *   ./venc_encode in.yuv out.h264 width=1280 height=720 [key=value ...]
 *
 * Keys are libvenc config keys (codec, bitrate, rc, qp, gop, fps, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <venc.h>

static int fail_cfg(venc_config *cfg, venc_status st, const char *what) {
    char msg[512];
    venc_config_last_error(cfg, msg, sizeof msg);
    fprintf(stderr, "%s: %s (%s)\n", what, msg, venc_status_str(st));
    return 1;
}

static int fail_enc(venc_encoder *enc, venc_status st, const char *what) {
    char msg[512];
    venc_encoder_last_error(enc, msg, sizeof msg);
    fprintf(stderr, "%s: %s (%s)\n", what, msg, venc_status_str(st));
    return 1;
}

/* Writes every packet that is ready; returns < 0 on error, VENC_EOF at the end. */
static venc_status write_packets(venc_encoder *enc, FILE *out, int timeout_ms, long *frames) {
    for (;;) {
        venc_packet *pkt = NULL;
        venc_status st = venc_encoder_receive_packet(enc, timeout_ms, &pkt);
        if (st != VENC_OK)
            return st;
        const uint8_t *data;
        size_t size;
        venc_packet_meta meta = {.struct_size = sizeof meta};
        venc_packet_data(pkt, &data, &size);
        venc_packet_info(pkt, &meta);
        if (size && fwrite(data, 1, size, out) != size) {
            venc_packet_free(pkt);
            return VENC_ERR_IO;
        }
        if (meta.frame_type != VENC_FRAME_TYPE_NONE)
            (*frames)++;
        venc_packet_free(pkt);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s in.y4m|in.yuv out.h264|out.h265|out.mjpeg [key=value ...]\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    venc_config *cfg = NULL;
    if (venc_config_new(&cfg) != VENC_OK)
        return 1;

    /* Y4M: "YUV4MPEG2 W1280 H720 F30:1 ..." then "FRAME\n" + I420 per frame. */
    int y4m = 0;
    char line[256];
    if (fgets(line, sizeof line, in) && strncmp(line, "YUV4MPEG2", 9) == 0) {
        y4m = 1;
        for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
            char val[64];
            if (tok[0] == 'W' || tok[0] == 'H') {
                venc_config_set(cfg, tok[0] == 'W' ? "width" : "height", tok + 1);
            } else if (tok[0] == 'F') {
                snprintf(val, sizeof val, "%s", tok + 1);
                char *colon = strchr(val, ':');
                if (colon)
                    *colon = '/';
                venc_config_set(cfg, "fps", val);
            } else if (tok[0] == 'C' && strncmp(tok + 1, "420", 3) != 0) {
                fprintf(stderr, "only 4:2:0 Y4M input is supported (got %s)\n", tok);
                return 1;
            }
        }
    } else {
        rewind(in);
    }
    const char *dot = strrchr(argv[2], '.');
    if (dot && (!strcmp(dot, ".h265") || !strcmp(dot, ".265") || !strcmp(dot, ".hevc")))
        venc_config_set(cfg, "codec", "h265");
    else if (dot && (!strcmp(dot, ".mjpeg") || !strcmp(dot, ".mjpg")))
        venc_config_set(cfg, "codec", "mjpeg");
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "option %s is not key=value\n", argv[i]);
            return 2;
        }
        *eq = 0;
        venc_status st = venc_config_set(cfg, argv[i], eq + 1);
        if (st != VENC_OK)
            return fail_cfg(cfg, st, "config");
    }
    char wbuf[32], hbuf[32];
    venc_config_get(cfg, "width", wbuf, sizeof wbuf, NULL);
    venc_config_get(cfg, "height", hbuf, sizeof hbuf, NULL);
    uint32_t w = (uint32_t)atoi(wbuf), h = (uint32_t)atoi(hbuf);

    venc_encoder *enc = NULL;
    venc_status st = venc_encoder_new(cfg, &enc);
    if (st != VENC_OK)
        return fail_cfg(cfg, st, "encoder");
    venc_config_free(cfg);

    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
    size_t frame_size = (size_t)w * h + 2 * cw * ch;
    uint8_t *buf = malloc(frame_size);
    long sent = 0, written = 0;
    for (;;) {
        if (y4m && !fgets(line, sizeof line, in))
            break;
        if (fread(buf, 1, frame_size, in) != frame_size)
            break;
        venc_frame f = {
            .struct_size = sizeof f,
            .format = VENC_PIX_I420,
            .width = w,
            .height = h,
            .planes = {buf, buf + (size_t)w * h, buf + (size_t)w * h + cw * ch},
            .strides = {w, (uint32_t)cw, (uint32_t)cw},
            .pts = sent,
        };
        while ((st = venc_encoder_send_frame(enc, &f)) == VENC_AGAIN) {
            st = write_packets(enc, out, 0, &written);
            if (st < 0)
                return fail_enc(enc, st, "receive");
        }
        if (st != VENC_OK)
            return fail_enc(enc, st, "send");
        sent++;
        st = write_packets(enc, out, 0, &written);
        if (st < 0)
            return fail_enc(enc, st, "receive");
    }
    venc_encoder_drain(enc);
    st = write_packets(enc, out, -1, &written);
    if (st != VENC_EOF)
        return fail_enc(enc, st, "drain");
    venc_encoder_stats stats = {.struct_size = sizeof stats};
    venc_encoder_get_stats(enc, &stats);
    printf("%s: %ld frames in, %ld frames out, %llu bytes\n", argv[2], sent, written,
           (unsigned long long)stats.bytes_out);
    venc_encoder_free(enc);
    free(buf);
    fclose(in);
    return fclose(out) == 0 && sent == written ? 0 : 1;
}
