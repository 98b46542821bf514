/* Compiled as C99 and C11 with -Wall -Wextra -Werror -pedantic. */
#include <venc.h>
int venc_header_check_c(void);
int venc_header_check_c(void) { return VENC_OK + (int)sizeof(venc_frame); }
