/* A V4L2 stateful-encoder client that speaks only the kernel's
 * <linux/videodev2.h> structs through venc_v4l2_ioctl/mmap/poll, so it runs
 * unchanged against the emulated encoder or a real device node.
 *
 *   test_v4l2_client [CODED [API [RAW]]]
 *     CODED  coded fourcc: H264 (default), HEVC, MJPG, JPEG, FWHT
 *     API    mplane (default when offered) or single
 *     RAW    raw fourcc: NV12 (default), YU12 (YUV420), NV21
 *   (or the environment: VENC_V4L2_CODED, VENC_V4L2_API, VENC_V4L2_RAW)
 *   VENC_V4L2_DEVICE=/dev/videoN runs it against a kernel node (e.g. vicodec,
 *   CODED=FWHT); unset, the emulated encoder is used. On a kernel node with
 *   no CODED given, H264 is used if the node offers it, else the first coded
 *   format it lists (vicodec: FWHT), so a VM that can pass no arguments
 *   still runs it.
 *
 * The emulated run is strict. A kernel node may differ where the interface
 * leaves room or its driver is known to deviate; each such tolerance is
 * marked "real device:" below and applies only when VENC_V4L2_DEVICE names
 * a node.
 *
 * Sequence: formats (CAPTURE first), controls, EOS subscription, misuse
 * errnos, REQBUFS/QUERYBUF/mmap, 30 frames, STOP drain to LAST then EPIPE,
 * START and 10 more frames drained, CAPTURE STREAMOFF/STREAMON reset with new
 * headers and 8 frames. Both streams are decoded by FFmpeg (silent, exact
 * frame count, luma PSNR); FWHT, which FFmpeg cannot decode, is checked
 * frame by frame instead (header, sizes, dimensions, I-frame first). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/videodev2.h>

/* The struct sizes libvenc's #[repr(C)] copies are built with on LP64
 * (x86_64, aarch64); the Rust unit test uapi::layouts_match_the_kernel_header
 * compares every size and ioctl number with this header too. */
#if __SIZEOF_POINTER__ == 8
_Static_assert(sizeof(struct v4l2_capability) == 104, "v4l2_capability");
_Static_assert(sizeof(struct v4l2_format) == 208, "v4l2_format");
_Static_assert(sizeof(struct v4l2_pix_format_mplane) == 192, "v4l2_pix_format_mplane");
_Static_assert(sizeof(struct v4l2_requestbuffers) == 20, "v4l2_requestbuffers");
_Static_assert(sizeof(struct v4l2_buffer) == 88, "v4l2_buffer");
_Static_assert(sizeof(struct v4l2_plane) == 64, "v4l2_plane");
_Static_assert(sizeof(struct v4l2_ext_control) == 20, "v4l2_ext_control");
_Static_assert(sizeof(struct v4l2_ext_controls) == 32, "v4l2_ext_controls");
_Static_assert(sizeof(struct v4l2_event) == 136, "v4l2_event");
_Static_assert(sizeof(struct v4l2_encoder_cmd) == 40, "v4l2_encoder_cmd");
_Static_assert(sizeof(struct v4l2_streamparm) == 204, "v4l2_streamparm");
_Static_assert(sizeof(struct v4l2_create_buffers) == 256, "v4l2_create_buffers");
_Static_assert(VIDIOC_QBUF == 0xc058560f, "VIDIOC_QBUF");
_Static_assert(VIDIOC_ENCODER_CMD == 0xc028564d, "VIDIOC_ENCODER_CMD");
#endif

#define W 320
#define H 180
#define NBUF 4
#define N1 30
#define N2 10
#define N3 8

static venc_v4l2 *dev;
static int emulated, mplane;
static uint32_t coded_fmt, raw_fmt;
static uint32_t out_type, cap_type;
static uint32_t raw_w, raw_h, raw_bpl, raw_size, cap_size;

struct mbuf {
    void *p;
    size_t len;
};
static struct mbuf out_bufs[NBUF], cap_bufs[NBUF];
static int out_free[NBUF];
static int cap_queued; /* CAPTURE buffers we have queued and not dequeued */
static uint32_t out_mem = V4L2_MEMORY_MMAP, cap_mem = V4L2_MEMORY_MMAP;
static int out_fd[NBUF]; /* DMABUF fds of the OUTPUT buffers */

static int xioctl(unsigned long req, void *arg) { return venc_v4l2_ioctl(dev, req, arg); }

#define IOCTL_OK(req, arg)                                                                  \
    do {                                                                                    \
        int _r = xioctl(req, arg);                                                          \
        if (_r != 0) {                                                                      \
            char _m[256];                                                                   \
            venc_v4l2_last_error(dev, _m, sizeof _m);                                       \
            fprintf(stderr, "%s:%d: %s failed: %d (%s)\n", __FILE__, __LINE__, #req, _r, _m); \
            ct_failures++;                                                                  \
        }                                                                                   \
    } while (0)
#define IOCTL_ERR(req, arg, err) CHECK_EQ(xioctl(req, arg), -(err))

static uint32_t fourcc_of(const char *s) {
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

/* ---- formats ---------------------------------------------------------- */

static void set_pix(struct v4l2_format *f, uint32_t type, uint32_t fourcc, uint32_t w, uint32_t h) {
    memset(f, 0, sizeof *f);
    f->type = type;
    if (mplane) {
        f->fmt.pix_mp.pixelformat = fourcc;
        f->fmt.pix_mp.width = w;
        f->fmt.pix_mp.height = h;
        f->fmt.pix_mp.num_planes = 1;
    } else {
        f->fmt.pix.pixelformat = fourcc;
        f->fmt.pix.width = w;
        f->fmt.pix.height = h;
    }
}

static uint32_t f_fourcc(const struct v4l2_format *f) { return mplane ? f->fmt.pix_mp.pixelformat : f->fmt.pix.pixelformat; }
static uint32_t f_width(const struct v4l2_format *f) { return mplane ? f->fmt.pix_mp.width : f->fmt.pix.width; }
static uint32_t f_height(const struct v4l2_format *f) { return mplane ? f->fmt.pix_mp.height : f->fmt.pix.height; }
static uint32_t f_bpl(const struct v4l2_format *f) { return mplane ? f->fmt.pix_mp.plane_fmt[0].bytesperline : f->fmt.pix.bytesperline; }
static uint32_t f_size(const struct v4l2_format *f) { return mplane ? f->fmt.pix_mp.plane_fmt[0].sizeimage : f->fmt.pix.sizeimage; }

static int enum_has(uint32_t type, uint32_t fourcc) {
    for (uint32_t i = 0;; i++) {
        struct v4l2_fmtdesc d;
        memset(&d, 0, sizeof d);
        d.index = i;
        d.type = type;
        if (xioctl(VIDIOC_ENUM_FMT, &d) != 0)
            return 0;
        if (d.pixelformat == fourcc)
            return 1;
    }
}

static void setup_formats(void) {
    struct v4l2_format f;
    CHECK(enum_has(cap_type, coded_fmt));
    set_pix(&f, cap_type, coded_fmt, 0, 0);
    IOCTL_OK(VIDIOC_S_FMT, &f);
    CHECK_EQ(f_fourcc(&f), coded_fmt);
    CHECK(enum_has(out_type, raw_fmt));

    set_pix(&f, out_type, fourcc_of("ABCD"), W, H);
    IOCTL_OK(VIDIOC_TRY_FMT, &f);
    CHECK(f_fourcc(&f) != fourcc_of("ABCD")); /* adjusted, not refused */

    set_pix(&f, out_type, raw_fmt, W, H);
    IOCTL_OK(VIDIOC_S_FMT, &f);
    CHECK_EQ(f_fourcc(&f), raw_fmt);
    if (emulated)
        CHECK_EQ(f_width(&f), W);
    else
        /* real device: the driver may raise the size to its minimum (vicodec:
         * 640x360); the W x H picture then fills the top-left corner. */
        CHECK(f_width(&f) >= W);
    CHECK(f_height(&f) >= H);
    raw_w = f_width(&f);
    raw_h = f_height(&f);
    raw_bpl = f_bpl(&f);
    raw_size = f_size(&f);
    CHECK(raw_bpl >= W);
    CHECK(raw_size >= raw_bpl * raw_h * 3 / 2);
    if (emulated) {
        CHECK_EQ(raw_h, 192); /* aligned to 16, cropped back to 180 */
        struct v4l2_selection s;
        memset(&s, 0, sizeof s);
        s.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
        s.target = V4L2_SEL_TGT_CROP_BOUNDS;
        IOCTL_OK(VIDIOC_G_SELECTION, &s);
        CHECK_EQ(s.r.height, 192);
        s.target = V4L2_SEL_TGT_CROP;
        s.r.left = 0;
        s.r.top = 0;
        s.r.width = W;
        s.r.height = H;
        IOCTL_OK(VIDIOC_S_SELECTION, &s);
        CHECK_EQ(s.r.width, W);
        CHECK_EQ(s.r.height, H);
        s.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        IOCTL_ERR(VIDIOC_G_SELECTION, &s, EINVAL);
    }
    set_pix(&f, cap_type, 0, 0, 0);
    IOCTL_OK(VIDIOC_G_FMT, &f);
    CHECK_EQ(f_fourcc(&f), coded_fmt);
    cap_size = f_size(&f);
    CHECK(cap_size > 0);

    struct v4l2_frmsizeenum fs;
    memset(&fs, 0, sizeof fs);
    fs.pixel_format = coded_fmt;
    IOCTL_OK(VIDIOC_ENUM_FRAMESIZES, &fs);
    fs.index = 1;
    if (emulated)
        IOCTL_ERR(VIDIOC_ENUM_FRAMESIZES, &fs, EINVAL);

    struct v4l2_streamparm parm;
    memset(&parm, 0, sizeof parm);
    parm.type = out_type;
    parm.parm.output.timeperframe.numerator = 1;
    parm.parm.output.timeperframe.denominator = 25;
    int r = xioctl(VIDIOC_S_PARM, &parm);
    if (!emulated && r == -ENOTTY) {
        /* real device: vicodec implements neither S_PARM nor G_PARM (no frame
         * rate), though the encoder interface asks for S_PARM(OUTPUT). */
        printf("real device: no S_PARM (ENOTTY); frame-rate checks skipped\n");
    } else {
        CHECK_EQ(r, 0);
        CHECK(parm.parm.output.capability & V4L2_CAP_TIMEPERFRAME);
        memset(&parm, 0, sizeof parm);
        parm.type = out_type;
        IOCTL_OK(VIDIOC_G_PARM, &parm);
        CHECK_EQ(parm.parm.output.timeperframe.denominator, 25);
    }
    if (emulated) {
        struct v4l2_frmivalenum fi;
        memset(&fi, 0, sizeof fi);
        fi.pixel_format = raw_fmt;
        fi.width = W;
        fi.height = raw_h;
        IOCTL_OK(VIDIOC_ENUM_FRAMEINTERVALS, &fi);
        CHECK_EQ(fi.type, V4L2_FRMIVAL_TYPE_CONTINUOUS);
    }
}

/* ---- controls --------------------------------------------------------- */

static int set_ctrl(uint32_t id, int32_t v) {
    struct v4l2_control c = {.id = id, .value = v};
    return xioctl(VIDIOC_S_CTRL, &c);
}

static int32_t get_ctrl(uint32_t id) {
    struct v4l2_control c = {.id = id, .value = -12345};
    IOCTL_OK(VIDIOC_G_CTRL, &c);
    return c.value;
}

static int is_h26x(void) { return coded_fmt == V4L2_PIX_FMT_H264 || coded_fmt == V4L2_PIX_FMT_HEVC; }

/* Output file names carry the coded format and API, so variants can run in parallel. */
static const char *stream_path(int n, char *buf, size_t cap) {
    char name[64];
    snprintf(name, sizeof name, "v4l2_%c%c%c%c_%s_%d.bin", (char)(coded_fmt & 0xff), (char)((coded_fmt >> 8) & 0xff),
             (char)((coded_fmt >> 16) & 0xff), (char)(coded_fmt >> 24), mplane ? "mp" : "sp", n);
    return ct_tmp(name, buf, cap);
}

static void setup_controls(void) {
    struct v4l2_queryctrl q;
    memset(&q, 0, sizeof q);
    q.id = V4L2_CID_MIN_BUFFERS_FOR_OUTPUT;
    IOCTL_OK(VIDIOC_QUERYCTRL, &q);
    CHECK(q.flags & V4L2_CTRL_FLAG_READ_ONLY);
    CHECK(get_ctrl(V4L2_CID_MIN_BUFFERS_FOR_OUTPUT) >= 1);
    CHECK(get_ctrl(V4L2_CID_MIN_BUFFERS_FOR_OUTPUT) <= NBUF);
    if (!emulated)
        return; /* the rest is what this encoder offers; a kernel driver may differ */
    CHECK_EQ(set_ctrl(V4L2_CID_MIN_BUFFERS_FOR_OUTPUT, 3), -EACCES);
    CHECK_EQ(set_ctrl(0x00991234, 1), -EINVAL);

    /* Enumerate every control and menu. */
    int n = 0;
    memset(&q, 0, sizeof q);
    q.id = V4L2_CTRL_FLAG_NEXT_CTRL;
    while (xioctl(VIDIOC_QUERYCTRL, &q) == 0) {
        n++;
        if (q.type == V4L2_CTRL_TYPE_MENU) {
            int items = 0;
            for (int32_t i = q.minimum; i <= q.maximum; i++) {
                struct v4l2_querymenu m;
                memset(&m, 0, sizeof m);
                m.id = q.id;
                m.index = (uint32_t)i;
                if (xioctl(VIDIOC_QUERYMENU, &m) == 0)
                    items++;
            }
            CHECK(items >= 1);
        }
        q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
    }
    CHECK(n >= 15);
    struct v4l2_querymenu m;
    memset(&m, 0, sizeof m);
    m.id = V4L2_CID_MPEG_VIDEO_H264_PROFILE;
    m.index = V4L2_MPEG_VIDEO_H264_PROFILE_EXTENDED;
    IOCTL_ERR(VIDIOC_QUERYMENU, &m, EINVAL);

    /* B-frames: only 0; like the kernel, an integer is clamped (FFmpeg reads it back). */
    CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_B_FRAMES, 2), 0);
    CHECK_EQ(get_ctrl(V4L2_CID_MPEG_VIDEO_B_FRAMES), 0);
    CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_BITRATE_MODE, 7), -ERANGE);

    struct v4l2_ext_control c[6];
    memset(c, 0, sizeof c);
    c[0].id = V4L2_CID_MPEG_VIDEO_BITRATE_MODE;
    c[0].value = V4L2_MPEG_VIDEO_BITRATE_MODE_CBR;
    c[1].id = V4L2_CID_MPEG_VIDEO_BITRATE;
    c[1].value = 1000000;
    c[2].id = V4L2_CID_MPEG_VIDEO_GOP_SIZE;
    c[2].value = 100;
    c[3].id = V4L2_CID_MPEG_VIDEO_H264_I_PERIOD;
    c[3].value = 100;
    c[4].id = V4L2_CID_MPEG_VIDEO_HEADER_MODE;
    c[4].value = V4L2_MPEG_VIDEO_HEADER_MODE_SEPARATE;
    c[5].id = coded_fmt == V4L2_PIX_FMT_HEVC ? V4L2_CID_MPEG_VIDEO_HEVC_PROFILE : V4L2_CID_MPEG_VIDEO_H264_PROFILE;
    c[5].value = coded_fmt == V4L2_PIX_FMT_HEVC ? V4L2_MPEG_VIDEO_HEVC_PROFILE_MAIN : V4L2_MPEG_VIDEO_H264_PROFILE_HIGH;
    struct v4l2_ext_controls ec;
    memset(&ec, 0, sizeof ec);
    ec.which = V4L2_CTRL_WHICH_CUR_VAL;
    ec.count = 6;
    ec.controls = c;
    IOCTL_OK(VIDIOC_TRY_EXT_CTRLS, &ec);
    IOCTL_OK(VIDIOC_S_EXT_CTRLS, &ec);
    CHECK_EQ(get_ctrl(V4L2_CID_MPEG_VIDEO_GOP_SIZE), 100);
    CHECK_EQ(get_ctrl(V4L2_CID_MPEG_VIDEO_BITRATE), 1000000);

    /* A bad value in the middle: error_idx points at it, nothing changes. */
    c[0].id = V4L2_CID_MPEG_VIDEO_GOP_SIZE;
    c[0].value = 50;
    c[1].id = V4L2_CID_MPEG_VIDEO_BITRATE_MODE;
    c[1].value = 9;
    ec.count = 2;
    IOCTL_ERR(VIDIOC_S_EXT_CTRLS, &ec, ERANGE);
    CHECK_EQ(ec.error_idx, 1);
    CHECK_EQ(get_ctrl(V4L2_CID_MPEG_VIDEO_GOP_SIZE), 100);
    c[0].id = 0x00995555;
    ec.count = 1;
    IOCTL_ERR(VIDIOC_G_EXT_CTRLS, &ec, EINVAL);
    CHECK_EQ(ec.error_idx, 0);
    c[0].id = V4L2_CID_MPEG_VIDEO_GOP_SIZE;
    ec.which = V4L2_CTRL_WHICH_DEF_VAL;
    IOCTL_OK(VIDIOC_G_EXT_CTRLS, &ec);
    CHECK_EQ(c[0].value, 60);
    /* The JPEG class only holds JPEG controls. */
    ec.which = V4L2_CTRL_CLASS_JPEG;
    IOCTL_ERR(VIDIOC_G_EXT_CTRLS, &ec, EINVAL);
    c[0].id = V4L2_CID_JPEG_COMPRESSION_QUALITY;
    c[0].value = 85;
    IOCTL_OK(VIDIOC_S_EXT_CTRLS, &ec);
    CHECK_EQ(get_ctrl(V4L2_CID_JPEG_COMPRESSION_QUALITY), 85);
}

/* ---- buffers ---------------------------------------------------------- */

static void init_buf(struct v4l2_buffer *b, struct v4l2_plane *pl, uint32_t type, uint32_t index) {
    memset(b, 0, sizeof *b);
    memset(pl, 0, sizeof *pl);
    b->type = type;
    b->memory = type == cap_type ? cap_mem : out_mem;
    b->index = index;
    if (mplane) {
        b->m.planes = pl;
        b->length = 1;
    }
    if (index >= NBUF)
        return;
    if (b->memory == V4L2_MEMORY_USERPTR) {
        struct mbuf *m = type == cap_type ? &cap_bufs[index] : &out_bufs[index];
        if (mplane) {
            pl->m.userptr = (unsigned long)m->p;
            pl->length = (uint32_t)m->len;
        } else {
            b->m.userptr = (unsigned long)m->p;
            b->length = (uint32_t)m->len;
        }
    } else if (b->memory == V4L2_MEMORY_DMABUF) {
        if (mplane)
            pl->m.fd = out_fd[index];
        else
            b->m.fd = out_fd[index];
    }
}

static uint32_t b_used(const struct v4l2_buffer *b, const struct v4l2_plane *pl) { return mplane ? pl->bytesused : b->bytesused; }

static void alloc_and_map(uint32_t type, struct mbuf *bufs) {
    struct v4l2_requestbuffers r;
    memset(&r, 0, sizeof r);
    r.count = NBUF;
    r.type = type;
    r.memory = V4L2_MEMORY_MMAP;
    IOCTL_OK(VIDIOC_REQBUFS, &r);
    CHECK_EQ(r.count, NBUF);
    CHECK(r.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP);
    for (uint32_t i = 0; i < NBUF; i++) {
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        init_buf(&b, &pl, type, i);
        IOCTL_OK(VIDIOC_QUERYBUF, &b);
        size_t len = mplane ? pl.length : b.length;
        int64_t off = mplane ? pl.m.mem_offset : b.m.offset;
        CHECK(len > 0);
        bufs[i].len = len;
        bufs[i].p = NULL;
        CHECK_EQ(venc_v4l2_mmap(dev, len, off, &bufs[i].p), 0);
    }
}

static void unmap_all(struct mbuf *bufs) {
    for (int i = 0; i < NBUF; i++)
        if (bufs[i].p) {
            CHECK_EQ(venc_v4l2_munmap(dev, bufs[i].p, bufs[i].len), 0);
            bufs[i].p = NULL;
        }
}

static void queue_capture(uint32_t i) {
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    init_buf(&b, &pl, cap_type, i);
    IOCTL_OK(VIDIOC_QBUF, &b);
    cap_queued++;
}

/* Writes the I420 picture into an OUTPUT buffer in the raw format's layout. */
static void fill_raw(uint8_t *dst, const uint8_t *i420) {
    const uint8_t *y = i420, *u = i420 + W * H, *v = u + (W / 2) * (H / 2);
    for (int r = 0; r < H; r++)
        memcpy(dst + (size_t)r * raw_bpl, y + r * W, W);
    uint8_t *c = dst + (size_t)raw_bpl * raw_h;
    for (int r = 0; r < H / 2; r++)
        for (int x = 0; x < W / 2; x++) {
            if (raw_fmt == V4L2_PIX_FMT_YUV420) {
                c[(size_t)r * (raw_bpl / 2) + x] = u[r * (W / 2) + x];
                c[(size_t)(raw_bpl / 2) * (raw_h / 2) + (size_t)r * (raw_bpl / 2) + x] = v[r * (W / 2) + x];
            } else {
                int vu = raw_fmt == V4L2_PIX_FMT_NV21;
                c[(size_t)r * raw_bpl + 2 * x + vu] = u[r * (W / 2) + x];
                c[(size_t)r * raw_bpl + 2 * x + !vu] = v[r * (W / 2) + x];
            }
        }
}

/* ---- the stream ------------------------------------------------------- */

struct stream {
    FILE *file;
    int frames;     /* CAPTURE buffers holding a frame */
    int buffers;    /* non-empty CAPTURE buffers */
    int keyframes;
    int last_seen;
    long expect_ts; /* next frame's timestamp (seconds) */
    int first_is_header_only, first_starts_with_sps;
    int first_is_fwht_iframe;
    int target; /* > 0: keep no more CAPTURE buffers queued than frames still to come */
    const char *name;
};

static int has_slice(const uint8_t *d, size_t n) {
    for (size_t i = 0; i + 3 < n; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
            int t = coded_fmt == V4L2_PIX_FMT_HEVC ? (d[i + 3] >> 1) & 63 : d[i + 3] & 31;
            if (coded_fmt == V4L2_PIX_FMT_HEVC ? t < 32 : (t >= 1 && t <= 5))
                return 1;
        }
    return 0;
}

/* FWHT (vicodec's codec, which FFmpeg cannot decode): one frame per buffer,
 * a header of eleven 32-bit words (magic 0x4f4f4f4f, 0xffffffff, then
 * big-endian version, width, height, flags, four colour fields and the
 * size of the compressed data that follows it). Checks one frame; returns
 * its length (0 if malformed) and sets *iframe from the header, as vicodec
 * sets no KEYFRAME/PFRAME flag on what it encodes. */
#define FWHT_HDR 44
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static size_t fwht_frame(const uint8_t *d, size_t n, int *iframe) {
    *iframe = 0;
    if (n < FWHT_HDR || memcmp(d, "\x4f\x4f\x4f\x4f\xff\xff\xff\xff", 8) != 0) {
        fprintf(stderr, "FWHT: no frame header in %zu bytes\n", n);
        return 0;
    }
    uint32_t version = be32(d + 8), width = be32(d + 12), height = be32(d + 16), flags = be32(d + 20);
    size_t len = FWHT_HDR + (size_t)be32(d + 40);
    if (version < 1 || version > V4L2_FWHT_VERSION || width != raw_w || height != raw_h || len > n) {
        fprintf(stderr, "FWHT: header version %u, %ux%u, %zu bytes of %zu; expected %ux%u\n", version, width, height,
                len, n, raw_w, raw_h);
        return 0;
    }
    *iframe = !!(flags & V4L2_FWHT_FL_I_FRAME);
    return len;
}

/* Dequeues every ready CAPTURE buffer, records it and queues it again
 * (see stream.target). Returns the number dequeued. */
static int take_capture(struct stream *s) {
    int n = 0;
    for (;;) {
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        init_buf(&b, &pl, cap_type, 0);
        int r = xioctl(VIDIOC_DQBUF, &b);
        if (r == -EAGAIN)
            return n;
        if (r != 0) {
            CHECK_EQ(r, 0);
            return n;
        }
        n++;
        cap_queued--;
        uint32_t used = b_used(&b, &pl);
        const uint8_t *d = cap_bufs[b.index].p;
        CHECK(!(b.flags & V4L2_BUF_FLAG_ERROR));
        CHECK(b.flags & V4L2_BUF_FLAG_TIMESTAMP_COPY);
        if (used > 0) {
            if (s->buffers == 0 && is_h26x()) {
                s->first_is_header_only = !has_slice(d, used);
                s->first_starts_with_sps = used > 4 && d[0] == 0 && d[1] == 0 &&
                                           ((d[2] == 1 && (d[3] & 31) == 7) || (d[2] == 0 && d[3] == 1 && (d[4] & 31) == 7) ||
                                            coded_fmt == V4L2_PIX_FMT_HEVC);
            }
            if (coded_fmt == V4L2_PIX_FMT_FWHT) {
                int iframe;
                CHECK_EQ(fwht_frame(d, used, &iframe), used); /* exactly one frame */
                if (s->buffers == 0)
                    s->first_is_fwht_iframe = iframe;
            }
            s->buffers++;
            fwrite(d, 1, used, s->file);
            if (b.flags & (V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_PFRAME | V4L2_BUF_FLAG_BFRAME) ||
                !is_h26x() || has_slice(d, used)) {
                if (b.timestamp.tv_sec != s->expect_ts || b.timestamp.tv_usec != 7 * (s->expect_ts % 1000)) {
                    fprintf(stderr, "%s: frame %d has timestamp %ld.%06ld, expected %ld\n", s->name, s->frames,
                            (long)b.timestamp.tv_sec, (long)b.timestamp.tv_usec, s->expect_ts);
                    ct_failures++;
                }
                s->expect_ts++;
                s->frames++;
                if (b.flags & V4L2_BUF_FLAG_KEYFRAME)
                    s->keyframes++;
            }
        } else {
            CHECK(b.flags & V4L2_BUF_FLAG_LAST); /* only the LAST buffer may be empty */
        }
        if (b.flags & V4L2_BUF_FLAG_LAST) {
            s->last_seen = 1;
            queue_capture(b.index); /* stays queued for what comes next */
            return n;
        }
        if (s->target <= 0 || cap_queued < s->target - s->frames)
            queue_capture(b.index);
    }
}

/* Waits for `events`; nothing within 5 s means the encoder is stuck, and
 * the test stops there rather than spin. */
static void wait_poll(short events) {
    short rev = 0;
    CHECK_EQ(venc_v4l2_poll(dev, events, 5000, &rev), 0);
    if (!(rev & events)) {
        char m[256];
        venc_v4l2_last_error(dev, m, sizeof m);
        fprintf(stderr, "poll(%#x) gave %#x after 5 s (last error: %s); giving up\n", events, rev, m);
        for (int q = 0; q < 2; q++) /* where every buffer is, for the post-mortem */
            for (uint32_t i = 0; i < NBUF; i++) {
                struct v4l2_buffer b;
                struct v4l2_plane pl;
                init_buf(&b, &pl, q ? cap_type : out_type, i);
                if (xioctl(VIDIOC_QUERYBUF, &b) == 0)
                    fprintf(stderr, "  %s buffer %u: flags %#x\n", q ? "CAPTURE" : "OUTPUT", i, b.flags);
            }
        ct_failures++;
        exit(ct_finish("test_v4l2_client"));
    }
}

/* Returns an OUTPUT buffer that is free, waiting if needed. While it waits
 * it takes finished CAPTURE buffers into `s`: a device (vicodec) may hold
 * every OUTPUT buffer until it has somewhere to put the frames. */
static int free_output(struct stream *s) {
    for (;;) {
        for (int i = 0; i < NBUF; i++)
            if (out_free[i])
                return i;
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        init_buf(&b, &pl, out_type, 0);
        int r = xioctl(VIDIOC_DQBUF, &b);
        if (r == 0) {
            CHECK(b.index < NBUF);
            out_free[b.index] = 1;
            continue;
        }
        CHECK_EQ(r, -EAGAIN);
        if (take_capture(s) == 0)
            wait_poll(POLLOUT | POLLIN);
    }
}

static void send_frame(uint32_t t, uint8_t *src_store, struct stream *s) {
    int i = free_output(s);
    uint8_t *pic = ct_pattern(W, H, t);
    memcpy(src_store, pic, W * H * 3 / 2);
    fill_raw(out_bufs[i].p, pic);
    free(pic);
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    init_buf(&b, &pl, out_type, (uint32_t)i);
    if (mplane) {
        pl.bytesused = raw_size;
        pl.length = raw_size;
    } else {
        b.bytesused = raw_size;
    }
    b.field = V4L2_FIELD_NONE;
    b.timestamp.tv_sec = 1000 + t;
    b.timestamp.tv_usec = 7 * ((1000 + t) % 1000);
    IOCTL_OK(VIDIOC_QBUF, &b);
    out_free[i] = 0;
}

static void encoder_cmd(uint32_t cmd, int expect) {
    struct v4l2_encoder_cmd c;
    memset(&c, 0, sizeof c);
    c.cmd = cmd;
    CHECK_EQ(xioctl(VIDIOC_ENCODER_CMD, &c), expect);
}

/* Drains until the LAST buffer, then checks EPIPE and the EOS event. */
static void drain(struct stream *s) {
    encoder_cmd(V4L2_ENC_CMD_STOP, 0);
    s->last_seen = 0;
    for (int guard = 0; !s->last_seen && guard < 500; guard++) {
        if (take_capture(s) == 0 && !s->last_seen)
            wait_poll(POLLIN);
    }
    CHECK(s->last_seen);
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_ERR(VIDIOC_DQBUF, &b, EPIPE);
    short rev = 0;
    CHECK_EQ(venc_v4l2_poll(dev, POLLIN | POLLPRI, 0, &rev), 0);
    CHECK(rev & POLLIN); /* after LAST, poll says readable so DQBUF can report EPIPE */
    CHECK(rev & POLLPRI);
    struct v4l2_event ev;
    memset(&ev, 0, sizeof ev);
    IOCTL_OK(VIDIOC_DQEVENT, &ev);
    CHECK_EQ(ev.type, V4L2_EVENT_EOS);
    IOCTL_ERR(VIDIOC_DQEVENT, &ev, ENOENT);
}

/* No decoder for FWHT: the written stream must be exactly `frames` well-formed
 * frames back to back, the first an I-frame. */
static void check_fwht_file(const char *path, int frames) {
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    size_t cap = 1 << 20, n = 0, r;
    uint8_t *d = malloc(cap);
    while ((r = fread(d + n, 1, cap - n, fp)) > 0)
        if ((n += r) == cap)
            d = realloc(d, cap *= 2);
    fclose(fp);
    int count = 0, iframes = 0, first_i = 0;
    for (size_t off = 0; off < n;) {
        int iframe;
        size_t len = fwht_frame(d + off, n - off, &iframe);
        CHECK(len > FWHT_HDR);
        if (len == 0)
            break;
        if (count == 0)
            first_i = iframe;
        iframes += iframe;
        count++;
        off += len;
    }
    free(d);
    printf("%s: %d FWHT frames (%d I-frames), %zu bytes; no FFmpeg decoder, headers checked\n", path, count, iframes, n);
    CHECK_EQ(count, frames);
    CHECK(first_i);
}

static void check_decode(const char *path, const uint8_t *src, int frames) {
    if (coded_fmt == V4L2_PIX_FMT_FWHT) {
        check_fwht_file(path, frames);
        return;
    }
    const char *fmt = coded_fmt == V4L2_PIX_FMT_H264 ? "h264" : coded_fmt == V4L2_PIX_FMT_HEVC ? "hevc" : "mjpeg";
    size_t len = 0;
    uint8_t *dec = ct_decode(path, fmt, &len);
    size_t fs = (size_t)W * H * 3 / 2;
    CHECK_EQ(len % fs, 0);
    CHECK_EQ(len / fs, frames);
    if (dec && len == fs * (size_t)frames) {
        double p = ct_psnr_y_min(src, dec, (size_t)frames, W, H);
        printf("%s: %d frames, min luma PSNR %.1f dB\n", path, frames, p);
        CHECK(p > 30.0);
    }
    free(dec);
}

/* USERPTR, CREATE_BUFS, EXPBUF and DMABUF import: a second encoder handle
 * exports its MMAP OUTPUT buffers; this one imports them as DMABUF OUTPUT
 * buffers and encodes into CAPTURE buffers in our own (USERPTR) memory. */
#define N4 6
static void memory_phase(void) {
    venc_v4l2 *exporter = NULL, *enc = NULL;
    CHECK_EQ(venc_v4l2_open("emulated", O_RDWR | O_NONBLOCK, &exporter), 0);
    CHECK_EQ(venc_v4l2_open(NULL, O_RDWR | O_NONBLOCK, &enc), 0);
    if (!exporter || !enc)
        return;
    dev = exporter;
    struct v4l2_format f;
    set_pix(&f, out_type, raw_fmt, W, H);
    IOCTL_OK(VIDIOC_S_FMT, &f);
    struct v4l2_requestbuffers r;
    memset(&r, 0, sizeof r);
    r.count = 2;
    r.type = out_type;
    r.memory = V4L2_MEMORY_MMAP;
    IOCTL_OK(VIDIOC_REQBUFS, &r);
    for (uint32_t i = 0; i < 2; i++) {
        struct v4l2_exportbuffer x;
        memset(&x, 0, sizeof x);
        x.type = out_type;
        x.index = i;
        x.flags = O_CLOEXEC | O_RDWR;
        IOCTL_OK(VIDIOC_EXPBUF, &x);
        out_fd[i] = x.fd;
        CHECK(x.fd >= 0);
        out_bufs[i].len = raw_size;
        out_bufs[i].p = mmap(NULL, raw_size, PROT_READ | PROT_WRITE, MAP_SHARED, x.fd, 0);
        CHECK(out_bufs[i].p != MAP_FAILED);
        out_free[i] = 1;
    }
    out_free[2] = out_free[3] = 0;
    struct v4l2_exportbuffer x;
    memset(&x, 0, sizeof x);
    x.type = out_type;
    x.index = 7;
    IOCTL_ERR(VIDIOC_EXPBUF, &x, EINVAL);

    dev = enc;
    setup_formats();
    struct v4l2_event_subscription sub;
    memset(&sub, 0, sizeof sub);
    sub.type = V4L2_EVENT_EOS;
    IOCTL_OK(VIDIOC_SUBSCRIBE_EVENT, &sub);
    memset(&r, 0, sizeof r);
    r.count = 2;
    r.type = out_type;
    r.memory = V4L2_MEMORY_DMABUF;
    IOCTL_OK(VIDIOC_REQBUFS, &r);
    CHECK_EQ(r.count, 2);
    CHECK(r.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF);
    out_mem = V4L2_MEMORY_DMABUF;

    struct v4l2_create_buffers cb;
    memset(&cb, 0, sizeof cb);
    cb.count = 3;
    cb.memory = V4L2_MEMORY_USERPTR;
    cb.format.type = cap_type;
    IOCTL_OK(VIDIOC_G_FMT, &cb.format);
    IOCTL_OK(VIDIOC_CREATE_BUFS, &cb);
    CHECK_EQ(cb.index, 0);
    CHECK_EQ(cb.count, 3);
    cb.count = 0;
    IOCTL_OK(VIDIOC_CREATE_BUFS, &cb);
    CHECK_EQ(cb.index, 3);
    cap_mem = V4L2_MEMORY_USERPTR;
    for (int i = 0; i < 3; i++) {
        cap_bufs[i].len = cap_size;
        cap_bufs[i].p = malloc(cap_size);
    }
    /* Too short a user buffer, or a bad fd, is refused. */
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    init_buf(&b, &pl, cap_type, 0);
    if (mplane)
        pl.length = 100;
    else
        b.length = 100;
    IOCTL_ERR(VIDIOC_QBUF, &b, EINVAL);
    init_buf(&b, &pl, out_type, 0);
    if (mplane)
        pl.m.fd = -1;
    else
        b.m.fd = -1;
    IOCTL_ERR(VIDIOC_QBUF, &b, EINVAL);

    cap_queued = 0;
    for (uint32_t i = 0; i < 3; i++)
        queue_capture(i);
    int type = (int)cap_type;
    IOCTL_OK(VIDIOC_STREAMON, &type);
    type = (int)out_type;
    IOCTL_OK(VIDIOC_STREAMON, &type);

    char path[512];
    stream_path(3, path, sizeof path);
    size_t fs = (size_t)W * H * 3 / 2;
    uint8_t *src = malloc(fs * N4);
    struct stream s3 = {.file = fopen(path, "wb"), .expect_ts = 2000, .name = "stream 3"};
    for (uint32_t t = 0; t < N4; t++) {
        send_frame(1000 + t, src + fs * t, &s3);
        take_capture(&s3);
    }
    drain(&s3);
    CHECK_EQ(s3.frames, N4);
    fclose(s3.file);
    venc_v4l2_close(enc);
    dev = exporter;
    for (int i = 0; i < 2; i++) {
        munmap(out_bufs[i].p, raw_size);
        close(out_fd[i]);
    }
    for (int i = 0; i < 3; i++)
        free(cap_bufs[i].p);
    venc_v4l2_close(exporter);
    dev = NULL;
    check_decode(path, src, N4);
    free(src);
}

int main(int argc, char **argv) {
    const char *coded = argc > 1 ? argv[1] : getenv("VENC_V4L2_CODED");
    const char *api = argc > 2 ? argv[2] : getenv("VENC_V4L2_API");
    const char *raw = argc > 3 ? argv[3] : getenv("VENC_V4L2_RAW");
    const char *path = getenv("VENC_V4L2_DEVICE");
    coded_fmt = fourcc_of(coded && strlen(coded) == 4 ? coded : "H264");
    raw_fmt = fourcc_of(raw && strlen(raw) == 4 ? raw : "NV12");
    emulated = path == NULL || strcmp(path, "emulated") == 0;

    /* Pass-through: errno of the open and of the ioctl come back negated. */
    venc_v4l2 *node = NULL;
    CHECK_EQ(venc_v4l2_open("/nonexistent/video9", O_RDWR, &node), -ENOENT);
    CHECK(node == NULL);
    CHECK_EQ(venc_v4l2_open("/dev/null", O_RDWR, &node), 0);
    if (node) {
        struct v4l2_capability nc;
        CHECK_EQ(venc_v4l2_ioctl(node, VIDIOC_QUERYCAP, &nc), -ENOTTY);
        venc_v4l2_close(node);
    }

    CHECK_EQ(venc_v4l2_open(path, O_RDWR | O_NONBLOCK, &dev), 0);
    if (!dev)
        return ct_finish("test_v4l2_client");
    CHECK_EQ(venc_v4l2_ioctl(NULL, VIDIOC_QUERYCAP, NULL), -EBADF);
    IOCTL_ERR(VIDIOC_QUERYCAP, NULL, EFAULT);
    int unknown_arg = 0;
    IOCTL_ERR(_IOWR('V', 200, int), &unknown_arg, ENOTTY);
    if (emulated) /* the kernel copies the argument in first: a NULL one is EFAULT there */
        IOCTL_ERR(_IOWR('V', 200, int), NULL, ENOTTY);

    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    IOCTL_OK(VIDIOC_QUERYCAP, &cap);
    uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
    CHECK(caps & V4L2_CAP_STREAMING);
    CHECK(caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE));
    mplane = (caps & V4L2_CAP_VIDEO_M2M_MPLANE) && !(api && strcmp(api, "single") == 0);
    if (!(caps & V4L2_CAP_VIDEO_M2M))
        mplane = 1;
    out_type = mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_OUTPUT;
    cap_type = mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (!emulated && !(coded && strlen(coded) == 4) && !enum_has(cap_type, coded_fmt)) {
        /* A kernel node and no coded format asked for: the node's first. */
        struct v4l2_fmtdesc d;
        memset(&d, 0, sizeof d);
        d.type = cap_type;
        IOCTL_OK(VIDIOC_ENUM_FMT, &d);
        coded_fmt = d.pixelformat;
    }
    printf("device %s (%s), %s API, %.4s from %.4s\n", (char *)cap.card, emulated ? "emulated" : path,
           mplane ? "multi-planar" : "single-planar", (char *)&coded_fmt, (char *)&raw_fmt);

    setup_formats();
    setup_controls();

    /* Events: EOS only. */
    struct v4l2_event_subscription sub;
    memset(&sub, 0, sizeof sub);
    sub.type = V4L2_EVENT_SOURCE_CHANGE;
    IOCTL_ERR(VIDIOC_SUBSCRIBE_EVENT, &sub, EINVAL);
    sub.type = V4L2_EVENT_EOS;
    IOCTL_OK(VIDIOC_SUBSCRIBE_EVENT, &sub);
    struct v4l2_event ev;
    memset(&ev, 0, sizeof ev);
    IOCTL_ERR(VIDIOC_DQEVENT, &ev, ENOENT);

    /* Misuse before buffers exist. */
    int type = (int)out_type;
    IOCTL_ERR(VIDIOC_STREAMON, &type, EINVAL);
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    init_buf(&b, &pl, out_type, 0);
    IOCTL_ERR(VIDIOC_QBUF, &b, EINVAL);
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_ERR(VIDIOC_DQBUF, &b, EINVAL);
    encoder_cmd(V4L2_ENC_CMD_STOP, 0); /* not streaming: accepted, nothing happens */
    encoder_cmd(V4L2_ENC_CMD_PAUSE, -EINVAL);
    encoder_cmd(V4L2_ENC_CMD_RESUME, -EINVAL);
    struct v4l2_encoder_cmd tc;
    memset(&tc, 0, sizeof tc);
    tc.cmd = V4L2_ENC_CMD_STOP;
    tc.flags = V4L2_ENC_CMD_STOP_AT_GOP_END;
    IOCTL_OK(VIDIOC_TRY_ENCODER_CMD, &tc);
    CHECK_EQ(tc.flags, 0);
    tc.cmd = V4L2_ENC_CMD_PAUSE;
    IOCTL_ERR(VIDIOC_TRY_ENCODER_CMD, &tc, EINVAL);
    short rev = 0;
    CHECK_EQ(venc_v4l2_poll(dev, POLLIN, 0, &rev), 0);
    CHECK(rev & POLLERR); /* nothing streams yet */

    alloc_and_map(out_type, out_bufs);
    alloc_and_map(cap_type, cap_bufs);
    for (int i = 0; i < NBUF; i++)
        out_free[i] = 1;
    struct v4l2_format f;
    set_pix(&f, cap_type, coded_fmt, 0, 0);
    IOCTL_ERR(VIDIOC_S_FMT, &f, EBUSY);
    set_pix(&f, out_type, raw_fmt, W, H);
    if (!emulated)
        /* real device: vicodec lets S_FMT(OUTPUT) through with buffers
         * allocated when it changes nothing; a new size must still be EBUSY. */
        set_pix(&f, out_type, raw_fmt, raw_w + 64, raw_h);
    IOCTL_ERR(VIDIOC_S_FMT, &f, EBUSY);
    init_buf(&b, &pl, out_type, NBUF + 3);
    IOCTL_ERR(VIDIOC_QBUF, &b, EINVAL);
    if (emulated) {
        struct v4l2_requestbuffers r;
        memset(&r, 0, sizeof r);
        r.count = 2;
        r.type = out_type;
        r.memory = V4L2_MEMORY_OVERLAY; /* not a buffer memory: refused, buffers kept */
        IOCTL_ERR(VIDIOC_REQBUFS, &r, EINVAL);
        void *p = NULL;
        CHECK_EQ(venc_v4l2_mmap(dev, 4096, 0x12345000, &p), -EINVAL);
    }

    /* Start: CAPTURE buffers queued, both queues streaming. */
    for (uint32_t i = 0; i < NBUF; i++)
        queue_capture(i);
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_ERR(VIDIOC_QBUF, &b, EINVAL); /* already queued */
    type = (int)cap_type;
    IOCTL_OK(VIDIOC_STREAMON, &type);
    type = (int)out_type;
    if (xioctl(VIDIOC_STREAMON, &type) != 0) {
        char m[256];
        venc_v4l2_last_error(dev, m, sizeof m);
        fprintf(stderr, "STREAMON(OUTPUT) failed: %s\n", m);
        ct_failures++;
        venc_v4l2_close(dev);
        return ct_finish("test_v4l2_client");
    }
    IOCTL_OK(VIDIOC_STREAMON, &type); /* again: no-op */
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_ERR(VIDIOC_DQBUF, &b, EAGAIN);
    if (emulated) {
        CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_GOP_SIZE, 30), -EBUSY);
        CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_BITRATE, 800000), 0); /* live */
        CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_HEADER_MODE, V4L2_MPEG_VIDEO_HEADER_MODE_JOINED_WITH_1ST_FRAME), -EBUSY);
    }

    char path1[512], path2[512];
    stream_path(1, path1, sizeof path1);
    stream_path(2, path2, sizeof path2);
    size_t fs = (size_t)W * H * 3 / 2;
    uint8_t *src1 = malloc(fs * (N1 + N2)), *src2 = malloc(fs * N3);

    /* Stream 1: N1 frames, a forced key frame at 15, then a drain in which no
     * CAPTURE buffer is queued, so the drain stays open (STOP/START EBUSY)
     * until one is. */
    struct stream s1 = {.file = fopen(path1, "wb"), .expect_ts = 1000, .target = N1, .name = "stream 1"};
    for (uint32_t t = 0; t < N1; t++) {
        if (t == 15 && emulated) {
            while (s1.frames < 15)
                if (take_capture(&s1) == 0)
                    wait_poll(POLLIN);
            CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, 1), 0);
        }
        send_frame(t, src1 + fs * t, &s1);
        take_capture(&s1);
    }
    while (s1.frames < N1)
        if (take_capture(&s1) == 0)
            wait_poll(POLLIN);
    CHECK_EQ(cap_queued, 0);
    if (emulated && is_h26x()) {
        CHECK(s1.first_is_header_only); /* HEADER_MODE separate */
        CHECK_EQ(s1.keyframes, 2);      /* IDR at 0 and the forced one at 15 */
    }
    encoder_cmd(V4L2_ENC_CMD_STOP, 0);
    encoder_cmd(V4L2_ENC_CMD_STOP, -EBUSY);
    encoder_cmd(V4L2_ENC_CMD_START, -EBUSY);
    for (uint32_t i = 0; i < NBUF; i++) {
        struct v4l2_buffer qb;
        struct v4l2_plane qpl;
        init_buf(&qb, &qpl, cap_type, i);
        if (xioctl(VIDIOC_QUERYBUF, &qb) == 0 && !(qb.flags & V4L2_BUF_FLAG_QUEUED))
            queue_capture(i);
    }
    s1.target = 0;
    s1.last_seen = 0;
    for (int guard = 0; !s1.last_seen && guard < 100; guard++)
        if (take_capture(&s1) == 0 && !s1.last_seen)
            wait_poll(POLLIN);
    CHECK(s1.last_seen);
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_ERR(VIDIOC_DQBUF, &b, EPIPE);
    memset(&ev, 0, sizeof ev);
    IOCTL_OK(VIDIOC_DQEVENT, &ev);
    CHECK_EQ(ev.type, V4L2_EVENT_EOS);
    encoder_cmd(V4L2_ENC_CMD_STOP, 0); /* stopped: STOP is a no-op */
    CHECK_EQ(s1.frames, N1);
    if (coded_fmt == V4L2_PIX_FMT_FWHT)
        CHECK(s1.first_is_fwht_iframe);

    /* START resumes the same stream; N2 frames queued, then STOP while they
     * are in flight. */
    encoder_cmd(V4L2_ENC_CMD_START, 0);
    init_buf(&b, &pl, cap_type, 0);
    int rc = xioctl(VIDIOC_DQBUF, &b); /* resumed, nothing queued yet */
    if (!emulated && rc == -EPIPE) {
        /* real device: on vicodec (v4l2-mem2mem) START clears "stopped" before
         * the driver looks at it, so the CAPTURE queue keeps its "last buffer
         * dequeued" mark and DQBUF stays EPIPE. CAPTURE STREAMOFF/STREAMON (a
         * reset; no frame is in flight yet) clears it. */
        printf("real device: DQBUF(CAPTURE) still EPIPE after START; CAPTURE queue restarted\n");
        type = (int)cap_type;
        IOCTL_OK(VIDIOC_STREAMOFF, &type);
        cap_queued = 0;
        for (uint32_t i = 0; i < NBUF; i++)
            queue_capture(i);
        IOCTL_OK(VIDIOC_STREAMON, &type);
        init_buf(&b, &pl, cap_type, 0);
        rc = xioctl(VIDIOC_DQBUF, &b);
    }
    CHECK_EQ(rc, -EAGAIN);
    for (uint32_t t = N1; t < N1 + N2; t++)
        send_frame(t, src1 + fs * t, &s1);
    drain(&s1);
    CHECK_EQ(s1.frames, N1 + N2);
    fclose(s1.file);

    /* Reset: CAPTURE STREAMOFF/STREAMON gives an independent stream with
     * new headers; settings may change while CAPTURE is stopped. */
    type = (int)cap_type;
    IOCTL_OK(VIDIOC_STREAMOFF, &type);
    cap_queued = 0;
    init_buf(&b, &pl, cap_type, 0);
    IOCTL_OK(VIDIOC_QUERYBUF, &b);
    CHECK(!(b.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE))); /* returned to us */
    if (emulated) {
        CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_HEADER_MODE, V4L2_MPEG_VIDEO_HEADER_MODE_JOINED_WITH_1ST_FRAME), 0);
        CHECK_EQ(set_ctrl(V4L2_CID_MPEG_VIDEO_GOP_SIZE, 4), 0);
    }
    for (uint32_t i = 0; i < NBUF; i++)
        queue_capture(i);
    IOCTL_OK(VIDIOC_STREAMON, &type);
    struct stream s2 = {.file = fopen(path2, "wb"), .expect_ts = 1000 + N1 + N2, .name = "stream 2"};
    for (uint32_t t = 0; t < N3; t++) {
        send_frame(N1 + N2 + t, src2 + fs * t, &s2);
        take_capture(&s2);
    }
    drain(&s2);
    CHECK_EQ(s2.frames, N3);
    if (emulated && is_h26x()) {
        CHECK(!s2.first_is_header_only); /* joined with the first frame */
        CHECK(s2.first_starts_with_sps);
        CHECK_EQ(s2.keyframes, 2); /* GOP 4 over 8 frames */
    }
    fclose(s2.file);

    /* Tear down: STREAMOFF both, free, unmap, close. */
    type = (int)out_type;
    IOCTL_OK(VIDIOC_STREAMOFF, &type);
    type = (int)cap_type;
    IOCTL_OK(VIDIOC_STREAMOFF, &type);
    unmap_all(out_bufs);
    unmap_all(cap_bufs);
    struct v4l2_requestbuffers r;
    memset(&r, 0, sizeof r);
    r.type = out_type;
    r.memory = V4L2_MEMORY_MMAP;
    IOCTL_OK(VIDIOC_REQBUFS, &r);
    r.type = cap_type;
    IOCTL_OK(VIDIOC_REQBUFS, &r);
    set_pix(&f, cap_type, coded_fmt, 0, 0);
    IOCTL_OK(VIDIOC_S_FMT, &f); /* no buffers: allowed again */
    venc_v4l2_close(dev);

    if (emulated)
        memory_phase();
    check_decode(path1, src1, N1 + N2);
    check_decode(path2, src2, N3);
    free(src1);
    free(src2);
    return ct_finish("test_v4l2_client");
}
