// The header must compile as C++ with -Wall -Wextra -Werror -pedantic.
#include <venc.h>
int venc_header_check_cxx();
int venc_header_check_cxx() {
    venc_frame f{};
    f.struct_size = sizeof f;
    return static_cast<int>(f.struct_size) + VENC_OK;
}
