add_test(NAME test_v4l2_client_mjpeg COMMAND test_v4l2_client MJPG single YU12)
set_tests_properties(test_v4l2_client_mjpeg PROPERTIES TIMEOUT 300 ENVIRONMENT "VENC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
add_test(NAME test_v4l2_client_hevc COMMAND test_v4l2_client HEVC mplane NV21)
set_tests_properties(test_v4l2_client_hevc PROPERTIES TIMEOUT 300 ENVIRONMENT "VENC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
