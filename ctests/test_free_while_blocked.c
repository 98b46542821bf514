/* venc_encoder_free while another thread is blocked in receive_packet: the
 * blocked call returns VENC_ERR_INVALID_STATE, free waits for it, and the
 * memory goes only afterwards (run under ASan: no use-after-free). The
 * engine is slowed with the test-only debug_hook=slow_encode (300 ms/frame). */
#include <pthread.h>
#include <time.h>
#include "common.h"

static venc_encoder *enc;
static venc_status blocked_status = 12345;
static volatile int entering = 0;

static void *consumer(void *arg) {
    (void)arg;
    venc_packet *p = NULL;
    entering = 1;
    blocked_status = venc_encoder_receive_packet(enc, -1, &p);
    if (p)
        venc_packet_free(p);
    return NULL;
}

int main(void) {
    const char *kv[] = {"width", "64", "height", "64", "debug_hook", "slow_encode", NULL};
    venc_config *cfg = ct_config(kv);
    CHECK_EQ(venc_encoder_new(cfg, &enc), VENC_OK);
    venc_config_free(cfg);
    uint8_t *pic = ct_pattern(64, 64, 0);
    venc_frame f = ct_i420_frame(pic, 64, 64);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    CHECK_EQ(venc_encoder_send_frame(enc, &f), VENC_OK);
    pthread_t t;
    pthread_create(&t, NULL, consumer, NULL);
    while (!entering) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 50 * 1000000}; /* well inside the 300 ms encode */
    nanosleep(&ts, NULL);
    venc_encoder_free(enc);
    pthread_join(t, NULL);
    CHECK_EQ(blocked_status, VENC_ERR_INVALID_STATE);
    free(pic);
    return ct_finish("free_while_blocked");
}
