/* Lifecycle: free(NULL), double drain, send after drain → EOF, receive with
 * nothing queued → AGAIN (never blocks), a packet that outlives its encoder,
 * free with frames still queued. */
#include "common.h"

static venc_encoder *make(const char *codec) {
    const char *kv[] = {"codec", codec, "width", "176", "height", "144", "gop", "4", NULL};
    venc_config *cfg = ct_config(kv);
    venc_encoder *enc = NULL;
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_OK);
    venc_config_free(cfg); /* the encoder keeps its own copy */
    return enc;
}

int main(void) {
    venc_config_free(NULL);
    venc_encoder_free(NULL);
    venc_packet_free(NULL);

    venc_encoder *enc = make("h264");
    venc_packet *p = NULL;
    CHECK_EQ(venc_encoder_receive_packet(enc, -1, &p), VENC_AGAIN); /* nothing sent: no wait */
    CHECK(p == NULL);
    uint8_t *pic = ct_pattern(176, 144, 3);
    venc_frame f = ct_i420_frame(pic, 176, 144);
    f.flags = VENC_FRAME_NO_PTS;
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    venc_packet *kept = NULL;
    CHECK_EQ(venc_encoder_receive_packet(enc, -1, &kept), VENC_OK); /* frame 0 is coded */
    /* A keyframe request applies to the next frame the encoder takes: frame 1. */
    CHECK_EQ(venc_encoder_request_keyframe(enc), VENC_OK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    CHECK_EQ(venc_encoder_drain(enc), VENC_OK);
    CHECK_EQ(venc_encoder_drain(enc), VENC_OK);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_EOF);
    int n = 1, eos = 0;
    int64_t last_pts = 0;
    venc_status st;
    while ((st = venc_encoder_receive_packet(enc, -1, &p)) == VENC_OK) {
        venc_packet_meta m = {.struct_size = sizeof m};
        venc_packet_info(p, &m);
        if (m.flags & VENC_PACKET_EOS) {
            eos++;
            venc_packet_free(p);
            continue;
        }
        CHECK_EQ(m.pts, last_pts + 1); /* NO_PTS: numbered 0, 1, 2 */
        last_pts = m.pts;
        CHECK_EQ(m.frame_type, n == 1 ? VENC_FRAME_TYPE_IDR : VENC_FRAME_TYPE_P);
        CHECK_EQ(!!(m.flags & VENC_PACKET_KEYFRAME), n == 1);
        n++;
        venc_packet_free(p);
    }
    CHECK_EQ(st, VENC_EOF);
    CHECK_EQ(venc_encoder_receive_packet(enc, 0, &p), VENC_EOF);
    CHECK_EQ(n, 4);
    CHECK_EQ(eos, 1);
    venc_encoder_free(enc);
    /* The packet outlives its encoder. */
    const uint8_t *data;
    size_t size;
    CHECK_EQ(venc_packet_data(kept, &data, &size), VENC_OK);
    CHECK(size > 4 && data[0] == 0 && data[1] == 0);
    venc_packet_free(kept);

    /* Free with frames queued and packets unread: no leak, no hang. */
    enc = make("mjpeg");
    for (int i = 0; i < 4; i++)
        venc_encoder_send_frame(enc, &f);
    venc_encoder_free(enc);
    /* Drain with nothing sent: just the EOS packet, then EOF. */
    enc = make("h264");
    CHECK_EQ(venc_encoder_drain(enc), VENC_OK);
    CHECK_EQ(venc_encoder_receive_packet(enc, -1, &p), VENC_OK);
    venc_packet_meta m = {.struct_size = sizeof m};
    venc_packet_info(p, &m);
    CHECK(m.flags & VENC_PACKET_EOS);
    venc_packet_free(p);
    CHECK_EQ(venc_encoder_receive_packet(enc, -1, &p), VENC_EOF);
    venc_encoder_free(enc);
    free(pic);
    return ct_finish("lifecycle");
}
