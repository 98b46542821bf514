/* One producer and one consumer thread on one encoder; eight encoders at
 * once on eight threads. Every frame comes out exactly once, in order. */
#include <pthread.h>
#include "common.h"

enum { FRAMES = 60, W = 160, H = 96 };

struct shared {
    venc_encoder *enc;
    int received;
    int in_order;
    int failures;
};

static void *producer(void *arg) {
    struct shared *s = arg;
    uint8_t *pic = ct_pattern(W, H, 1);
    for (int i = 0; i < FRAMES; i++) {
        venc_frame f = ct_i420_frame(pic, W, H);
        f.pts = i;
        f.user_tag = (uint64_t)i;
        venc_status st;
        while ((st = venc_encoder_send_frame(s->enc, &f)) == VENC_AGAIN) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL); /* the consumer thread frees room */
        }
        if (st != VENC_OK)
            s->failures++;
    }
    venc_encoder_drain(s->enc);
    free(pic);
    return NULL;
}

static void *consumer(void *arg) {
    struct shared *s = arg;
    for (;;) {
        venc_packet *p = NULL;
        venc_status st = venc_encoder_receive_packet(s->enc, 50, &p);
        if (st == VENC_AGAIN)
            continue;
        if (st != VENC_OK)
            break;
        venc_packet_meta m = {.struct_size = sizeof m};
        venc_packet_info(p, &m);
        if (!(m.flags & VENC_PACKET_EOS)) {
            if ((int)m.user_tag != s->received)
                s->in_order = 0;
            s->received++;
        }
        venc_packet_free(p);
    }
    return NULL;
}

static void *one_encoder(void *arg) {
    struct shared *s = arg;
    const char *kv[] = {"codec", (s->received & 1) ? "mjpeg" : "h264", "width", "160", "height", "96", NULL};
    s->received = 0;
    s->in_order = 1;
    venc_config *cfg = ct_config(kv);
    if (venc_encoder_new(cfg, &s->enc) != VENC_OK) {
        s->failures++;
        venc_config_free(cfg);
        return NULL;
    }
    venc_config_free(cfg);
    pthread_t c;
    pthread_create(&c, NULL, consumer, s);
    producer(s);
    pthread_join(c, NULL);
    venc_encoder_free(s->enc);
    return NULL;
}

int main(void) {
    struct shared one = {.received = 0};
    pthread_t t;
    pthread_create(&t, NULL, one_encoder, &one);
    pthread_join(t, NULL);
    CHECK_EQ(one.failures, 0);
    CHECK_EQ(one.received, FRAMES);
    CHECK(one.in_order);

    struct shared many[8];
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) {
        memset(&many[i], 0, sizeof many[i]);
        many[i].received = i; /* odd ones use mjpeg */
        pthread_create(&threads[i], NULL, one_encoder, &many[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        CHECK_EQ(many[i].failures, 0);
        CHECK_EQ(many[i].received, FRAMES);
        CHECK(many[i].in_order);
    }
    return ct_finish("threads");
}
