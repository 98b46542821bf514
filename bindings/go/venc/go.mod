module libvenc.org/venc

go 1.19
