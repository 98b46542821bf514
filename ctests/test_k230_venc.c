/* The K230 personality from C, following the CanMV stream_venc_test loop:
 * set_out_bufs, media_init, create, start, then per frame send_frame,
 * get_stream, write every pack, release_stream; stop, destroy, deinit.
 * FFmpeg decodes the file silently with the exact frame count. Then every
 * error path with the vendor's exact code. */
#include <stddef.h>

#include "common.h"

/* The K230 structs' layout is ABI. */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(venc_k230_chn_attr) == 56, "venc_k230_chn_attr size");
_Static_assert(sizeof(venc_k230_frame) == 64, "venc_k230_frame size");
_Static_assert(offsetof(venc_k230_frame, pts) == 56, "venc_k230_frame.pts");
_Static_assert(sizeof(venc_k230_pack) == 24, "venc_k230_pack size");
_Static_assert(sizeof(venc_k230_stream) == 304, "venc_k230_stream size");
_Static_assert(sizeof(venc_k230_chn_status) == 48, "venc_k230_chn_status size");
#endif

#define W 320
#define H 240
#define FRAMES 40

static uint8_t *nv12_pattern(uint32_t t) {
    uint8_t *i420 = ct_pattern(W, H, t);
    uint8_t *nv12 = malloc((size_t)W * H * 3 / 2);
    memcpy(nv12, i420, (size_t)W * H);
    const uint8_t *u = i420 + W * H, *v = u + (W / 2) * (H / 2);
    for (size_t i = 0; i < (size_t)(W / 2) * (H / 2); i++) {
        nv12[W * H + 2 * i] = u[i];
        nv12[W * H + 2 * i + 1] = v[i];
    }
    free(i420);
    return nv12;
}

static venc_k230_frame frame_of(const uint8_t *nv12, int64_t pts) {
    venc_k230_frame f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    f.pixel_format = VENC_K230_PIXEL_NV12;
    f.width = W;
    f.height = H;
    f.vir_addr[0] = nv12;
    f.vir_addr[1] = nv12 + W * H;
    f.stride[0] = f.stride[1] = W;
    f.pts = pts;
    return f;
}

static venc_k230_chn_attr attr_of(uint32_t payload) {
    venc_k230_chn_attr a;
    memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    a.payload = payload;
    a.profile = payload == VENC_K230_PT_H265 ? VENC_K230_PROFILE_H265_MAIN : VENC_K230_PROFILE_H264_MAIN;
    a.width = W;
    a.height = H;
    a.gop = 30;
    a.bit_rate = 1000;
    a.src_frame_rate = a.dst_frame_rate = 30;
    a.rc_mode = payload == VENC_K230_PT_JPEG ? VENC_K230_RC_MJPEG_FIXQP : VENC_K230_RC_CBR;
    a.q_factor = 80;
    return a;
}

static void print_err(venc_k230_dev *dev, const char *what, int32_t rc) {
    char msg[256];
    venc_k230_last_error(dev, msg, sizeof msg);
    fprintf(stderr, "%s: 0x%08X %s\n", what, (unsigned)rc, msg);
}

/* Returns 1 if encoded, 0 if the payload is not supported here. */
static int stream_venc_test(uint32_t payload, const char *file, const char *fmt) {
    venc_k230_dev *dev = NULL;
    const int chn = 0;
    CHECK_EQ(venc_k230_open(0, &dev), 0);
    CHECK_EQ(venc_k230_set_out_bufs(dev, chn, 8, W, H), 0);
    CHECK_EQ(venc_k230_media_init(dev), 0);
    venc_k230_chn_attr attr = attr_of(payload);
    int32_t rc = venc_k230_create(dev, chn, &attr);
    if (rc != 0)
        print_err(dev, "create", rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(venc_k230_start(dev, chn), 0);
    char path[512];
    ct_tmp(file, path, sizeof path);
    FILE *out = fopen(path, "wb");
    long headers = 0, frames = 0;
    for (int i = 0; i < FRAMES; i++) {
        uint8_t *pic = nv12_pattern((uint32_t)i);
        venc_k230_frame f = frame_of(pic, (int64_t)i * 33333);
        CHECK_EQ(venc_k230_send_frame(dev, chn, &f, 1000), 0);
        free(pic); /* copied before return */
        venc_k230_stream s;
        memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
        rc = venc_k230_get_stream(dev, chn, &s, -1);
        CHECK_EQ(rc, 0);
        if (rc != 0)
            continue;
        CHECK(s.pack_cnt >= 1 && s.pack_cnt <= VENC_K230_PACK_CNT_MAX);
        for (uint32_t p = 0; p < s.pack_cnt; p++) {
            fwrite(s.packs[p].data, 1, s.packs[p].len, out);
            CHECK_EQ(s.packs[p].pts, (int64_t)i * 33333);
        }
        if (payload != VENC_K230_PT_JPEG) {
            if (i % 30 == 0) {
                CHECK_EQ(s.pack_cnt, 2);
                CHECK_EQ(s.packs[0].pack_type, VENC_K230_PACK_HEADER);
                CHECK_EQ(s.packs[1].pack_type, VENC_K230_PACK_I);
                headers++;
            } else {
                CHECK_EQ(s.pack_cnt, 1);
                CHECK_EQ(s.packs[0].pack_type, VENC_K230_PACK_P);
            }
        }
        frames++;
        CHECK_EQ(venc_k230_release_stream(dev, chn, &s), 0);
    }
    fclose(out);
    venc_k230_chn_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_EQ(venc_k230_query_status(dev, chn, &st), 0);
    CHECK_EQ(st.frames_encoded, FRAMES);
    CHECK_EQ(st.left_streams, 0);
    CHECK_EQ(st.held_streams, 0);
    CHECK_EQ(st.started, 1);
    CHECK_EQ(venc_k230_stop(dev, chn), 0);
    CHECK_EQ(venc_k230_destroy(dev, chn), 0);
    CHECK_EQ(venc_k230_media_deinit(dev), 0);
    venc_k230_close(dev);
    CHECK_EQ(frames, FRAMES);
    if (payload != VENC_K230_PT_JPEG)
        CHECK_EQ(headers, 2);
    size_t len = 0;
    uint8_t *dec = ct_decode(path, fmt, &len);
    CHECK_EQ(len, (size_t)W * H * 3 / 2 * FRAMES);
    printf("%s: %ld frames written, %zu decoded\n", file, frames, len / ((size_t)W * H * 3 / 2));
    free(dec);
    return 1;
}

static void error_paths(void) {
    venc_k230_dev *dev = NULL;
    venc_k230_chn_attr attr = attr_of(VENC_K230_PT_H264);
    venc_k230_stream s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    char msg[256];

    CHECK_EQ(venc_k230_open(0, NULL), VENC_K230_ERR_NULL_PTR);
    CHECK_EQ(venc_k230_open(0x100, &dev), VENC_K230_ERR_ILLEGAL_PARAM);
    CHECK(dev == NULL);
    CHECK_EQ(venc_k230_start(NULL, 0), VENC_K230_ERR_INVALID_DEVID);
    venc_k230_close(NULL);
    CHECK_EQ(venc_k230_open(0, &dev), 0);

    /* Codes are exactly the vendor's. */
    CHECK_EQ((uint32_t)VENC_K230_ERR_INVALID_CHNID, 0xA0098002u);
    CHECK_EQ((uint32_t)VENC_K230_ERR_NOBUF, 0xA009800Du);
    CHECK_EQ((uint32_t)VENC_K230_ERR_BUSY, 0xA0098012u);

    CHECK_EQ(venc_k230_set_out_bufs(dev, 4, 2, W, H), VENC_K230_ERR_INVALID_CHNID);
    CHECK(venc_k230_last_error(dev, msg, sizeof msg) > 0);
    CHECK_EQ(venc_k230_set_out_bufs(dev, 3, 2, W, H), VENC_K230_ERR_NOT_PERM);
    CHECK(strstr((venc_k230_last_error(dev, msg, sizeof msg), msg), "IDE") != NULL);
    CHECK_EQ(venc_k230_set_out_bufs(dev, 0, 0, W, H), VENC_K230_ERR_ILLEGAL_PARAM);
    CHECK_EQ(venc_k230_create(dev, 0, &attr), VENC_K230_ERR_NOTREADY);
    CHECK_EQ(venc_k230_set_out_bufs(dev, 0, 2, W, H), 0);
    CHECK_EQ(venc_k230_media_deinit(dev), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_media_init(dev), 0);
    CHECK_EQ(venc_k230_media_init(dev), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_set_out_bufs(dev, 0, 2, W, H), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_create(dev, 1, &attr), VENC_K230_ERR_NOT_CONFIG);
    CHECK_EQ(venc_k230_create(dev, 0, NULL), VENC_K230_ERR_NULL_PTR);
    venc_k230_chn_attr bad = attr;
    bad.struct_size = 8;
    CHECK_EQ(venc_k230_create(dev, 0, &bad), VENC_K230_ERR_ILLEGAL_PARAM);
    bad = attr;
    bad.width = 100;
    CHECK_EQ(venc_k230_create(dev, 0, &bad), VENC_K230_ERR_ILLEGAL_PARAM);
    venc_k230_last_error(dev, msg, sizeof msg);
    CHECK(strstr(msg, "128..4096") != NULL);
    bad = attr;
    bad.payload = 7;
    CHECK_EQ(venc_k230_create(dev, 0, &bad), VENC_K230_ERR_NOT_SUPPORT);
    bad = attr;
    bad.rc_mode = 9;
    CHECK_EQ(venc_k230_create(dev, 0, &bad), VENC_K230_ERR_ILLEGAL_PARAM);
    CHECK_EQ(venc_k230_start(dev, 0), VENC_K230_ERR_UNEXIST);
    CHECK_EQ(venc_k230_stop(dev, 0), VENC_K230_ERR_UNEXIST);
    CHECK_EQ(venc_k230_destroy(dev, 0), VENC_K230_ERR_UNEXIST);

    CHECK_EQ(venc_k230_create(dev, 0, &attr), 0);
    CHECK_EQ(venc_k230_create(dev, 0, &attr), VENC_K230_ERR_EXIST);
    uint8_t *pic = nv12_pattern(0);
    venc_k230_frame f = frame_of(pic, 0);
    CHECK_EQ(venc_k230_send_frame(dev, 0, &f, 0), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &s, 0), VENC_K230_ERR_BUF_EMPTY);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &s, -1), VENC_K230_ERR_BUF_EMPTY); /* stopped, nothing in flight */
    CHECK_EQ(venc_k230_start(dev, 0), 0);
    CHECK_EQ(venc_k230_start(dev, 0), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_destroy(dev, 0), VENC_K230_ERR_BUSY);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &s, 30), VENC_K230_ERR_BUF_EMPTY);
    CHECK_EQ(venc_k230_get_stream(dev, 0, NULL, 0), VENC_K230_ERR_NULL_PTR);
    CHECK_EQ(venc_k230_send_frame(dev, 0, NULL, 0), VENC_K230_ERR_NULL_PTR);
    venc_k230_frame bf = f;
    bf.vir_addr[1] = NULL;
    CHECK_EQ(venc_k230_send_frame(dev, 0, &bf, 0), VENC_K230_ERR_NULL_PTR);
    bf = f;
    bf.width = 64;
    CHECK_EQ(venc_k230_send_frame(dev, 0, &bf, 0), VENC_K230_ERR_ILLEGAL_PARAM);
    bf = f;
    bf.pixel_format = 99;
    CHECK_EQ(venc_k230_send_frame(dev, 0, &bf, 0), VENC_K230_ERR_NOT_SUPPORT);
    bf = f;
    bf.struct_size = 4;
    CHECK_EQ(venc_k230_send_frame(dev, 0, &bf, 0), VENC_K230_ERR_ILLEGAL_PARAM);
    CHECK_EQ(venc_k230_release_stream(dev, 0, &s), VENC_K230_ERR_ILLEGAL_PARAM); /* nothing held */

    /* buf_num 2: two held streams, the third get is NOBUF. */
    for (int i = 0; i < 3; i++) {
        f.pts = i;
        CHECK_EQ(venc_k230_send_frame(dev, 0, &f, -1), 0);
    }
    venc_k230_stream a, b;
    memset(&a, 0, sizeof a);
    a.struct_size = b.struct_size = sizeof a;
    memset(&b, 0, sizeof b);
    b.struct_size = sizeof b;
    CHECK_EQ(venc_k230_get_stream(dev, 0, &a, -1), 0);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &b, -1), 0);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &s, 1000), VENC_K230_ERR_NOBUF);
    CHECK_EQ(venc_k230_release_stream(dev, 0, &b), VENC_K230_ERR_ILLEGAL_PARAM); /* out of order */
    CHECK_EQ(venc_k230_release_stream(dev, 0, &a), 0);
    CHECK_EQ(venc_k230_release_stream(dev, 0, &b), 0);
    CHECK_EQ(venc_k230_request_idr(dev, 0), 0);
    CHECK_EQ(venc_k230_get_stream(dev, 0, &s, -1), 0);
    CHECK_EQ(venc_k230_release_stream(dev, 0, &s), 0);
    venc_k230_chn_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_EQ(venc_k230_query_status(dev, 0, NULL), VENC_K230_ERR_NULL_PTR);
    CHECK_EQ(venc_k230_query_status(dev, 0, &st), 0);
    CHECK_EQ(st.frames_encoded, 3);

    /* Queues fill without get_stream: BUF_FULL, never unbounded. */
    int32_t rc = 0;
    for (int i = 0; i < 64 && rc == 0; i++)
        rc = venc_k230_send_frame(dev, 0, &f, 20);
    CHECK_EQ(rc, VENC_K230_ERR_BUF_FULL);

    CHECK_EQ(venc_k230_media_deinit(dev), VENC_K230_ERR_BUSY);
    CHECK_EQ(venc_k230_stop(dev, 0), 0);
    CHECK_EQ(venc_k230_stop(dev, 0), 0); /* idempotent */
    CHECK_EQ(venc_k230_send_frame(dev, 0, &f, 0), VENC_K230_ERR_NOT_PERM);
    CHECK_EQ(venc_k230_destroy(dev, 0), 0);
    CHECK_EQ(venc_k230_destroy(dev, 0), VENC_K230_ERR_UNEXIST);
    CHECK_EQ(venc_k230_media_deinit(dev), 0);
    venc_k230_close(dev);

    /* Strict device: planes must start on 4 KiB boundaries. */
    CHECK_EQ(venc_k230_open(VENC_K230_OPEN_STRICT_ALIGN | VENC_K230_OPEN_ALLOW_IDE_CHN, &dev), 0);
    CHECK_EQ(venc_k230_set_out_bufs(dev, 3, 2, W, H), 0);
    CHECK_EQ(venc_k230_media_init(dev), 0);
    CHECK_EQ(venc_k230_create(dev, 3, &attr), 0);
    CHECK_EQ(venc_k230_start(dev, 3), 0);
    uint8_t *store = NULL;
    size_t ysz = (size_t)W * H, ypad = (ysz + 4095) / 4096 * 4096;
    CHECK_EQ(posix_memalign((void **)&store, 4096, ypad + ysz / 2 + 64), 0);
    memcpy(store, pic, ysz);
    memcpy(store + ypad, pic + ysz, ysz / 2);
    venc_k230_frame af = frame_of(store, 0);
    af.vir_addr[1] = store + ypad;
    venc_k230_frame uf = frame_of(pic, 0);
    if (((uintptr_t)pic & 4095) == 0)
        uf.vir_addr[0] = store + 64;
    uf.vir_addr[1] = store + ypad + 32;
    CHECK_EQ(venc_k230_send_frame(dev, 3, &uf, 0), VENC_K230_ERR_BADADDR);
    CHECK_EQ(venc_k230_send_frame(dev, 3, &af, -1), 0);
    CHECK_EQ(venc_k230_get_stream(dev, 3, &s, -1), 0);
    CHECK_EQ(s.pack_cnt, 2);
    CHECK_EQ(venc_k230_release_stream(dev, 3, &s), 0);
    CHECK_EQ(venc_k230_stop(dev, 3), 0);
    CHECK_EQ(venc_k230_destroy(dev, 3), 0);
    venc_k230_close(dev); /* media_deinit not needed before close */
    free(store);
    free(pic);
}

int main(void) {
    stream_venc_test(VENC_K230_PT_H264, "k230.h264", "h264");
    stream_venc_test(VENC_K230_PT_JPEG, "k230.mjpeg", "mjpeg");
    stream_venc_test(VENC_K230_PT_H265, "k230.h265", "hevc");
    error_paths();
    return ct_finish("k230_venc");
}
