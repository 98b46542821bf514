package com.libvenc;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class VencTest {
    static final int W = 160, H = 120;
    static final boolean HAVE_FFMPEG = java.util.Arrays.stream(System.getenv("PATH").split(File.pathSeparator))
            .anyMatch(d -> new File(d, "ffmpeg").canExecute());

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static VencFrame testFrame(int i) {
        VencFrame f = VencFrame.allocate(VencPixFmt.I420, W, H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) f.planes[0][y * W + x] = (byte) (x + y + 3 * i);
        java.util.Arrays.fill(f.planes[1], (byte) (128 + i));
        java.util.Arrays.fill(f.planes[2], (byte) (128 - i));
        f.pts = i;
        f.tag = 1000 + i;
        return f;
    }

    static VencEncoder encoder(String... kv) {
        try (VencConfig cfg = new VencConfig().set("width", W).set("height", H)) {
            for (int i = 0; i + 1 < kv.length; i += 2) cfg.set(kv[i], kv[i + 1]);
            return new VencEncoder(cfg);
        }
    }

    /** Sends n frames, drains, and returns the stream; counts picture packets in pictures[0]. */
    static byte[] encode(VencEncoder enc, int n, int[] pictures) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            VencFrame f = testFrame(i);
            while (!enc.sendFrame(f)) take(enc, 10, out, pictures);
            take(enc, 0, out, pictures);
        }
        enc.drain();
        take(enc, -1, out, pictures);
        assertTrue("end of stream after drain", enc.isEndOfStream());
        return out.toByteArray();
    }

    static void take(VencEncoder enc, int timeoutMs, ByteArrayOutputStream out, int[] pictures) {
        for (VencPacket p; (p = enc.receivePacket(timeoutMs)) != null; ) {
            out.write(p.data(), 0, p.data().length);
            if (p.isPicture()) {
                assertEquals("tag follows pts", 1000 + p.pts(), p.tag());
                pictures[0]++;
            }
        }
    }

    /** Decodes with FFmpeg, requires a silent stderr, returns the frame count. */
    static int ffmpegFrames(File f) throws IOException, InterruptedException {
        org.junit.Assume.assumeTrue("ffmpeg is installed", HAVE_FFMPEG);
        Process p = new ProcessBuilder("ffmpeg", "-nostdin", "-v", "error", "-i", f.getPath(), "-fps_mode",
                "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-").start();
        byte[] err;
        long bytes = 0;
        try (InputStream stdout = p.getInputStream(); InputStream stderr = p.getErrorStream()) {
            byte[] buf = new byte[65536];
            for (int n; (n = stdout.read(buf)) > 0; ) bytes += n;
            err = stderr.readAllBytes();
        }
        assertEquals("ffmpeg exit code", 0, p.waitFor());
        assertEquals("ffmpeg stderr for " + f, "", new String(err));
        assertEquals("whole frames", 0, bytes % (W * H));
        return (int) (bytes / (W * H));
    }

    static int expectedSize(String struct, int pinned) {
        return Integer.getInteger("venc.sizeof." + struct, pinned);
    }

    @Test
    public void structLayoutsMatchC() {
        // Values from the C compiler when the runner passes them, else those pinned in ctests/test_abi_layout.c.
        assertEquals(expectedSize("venc_frame", 72), new VencNative.venc_frame().size());
        assertEquals(expectedSize("venc_packet_meta", 48), new VencNative.venc_packet_meta().size());
        assertEquals(expectedSize("venc_encoder_stats", 40), new VencNative.venc_encoder_stats().size());
        assertEquals(expectedSize("venc_caps", 56), new VencNative.venc_caps().size());
        assertEquals(expectedSize("venc_frame.pts", 56), new VencNative.venc_frame().offsetOf("pts"));
        assertEquals(expectedSize("venc_packet_meta.frame_type", 40),
                new VencNative.venc_packet_meta().offsetOf("frame_type"));
    }

    void encodeAndDecode(String codec, String ext) throws Exception {
        try (VencEncoder enc = encoder("codec", codec, "gop", "10")) {
            int[] pictures = {0};
            byte[] data = encode(enc, 30, pictures);
            assertEquals(30, pictures[0]);
            assertEquals(30, enc.stats().frames_out);
            File f = tmp.newFile("out" + ext);
            Files.write(f.toPath(), data);
            assertEquals(30, ffmpegFrames(f));
        }
    }

    @Test
    public void encodeDecodeH264() throws Exception {
        encodeAndDecode("h264", ".h264");
    }

    @Test
    public void encodeDecodeMjpeg() throws Exception {
        encodeAndDecode("mjpeg", ".mjpeg");
    }

    @Test
    public void configErrorsNameTheKey() {
        try (VencConfig cfg = new VencConfig()) {
            try {
                cfg.set("bitrat", "1M");
                fail("unknown key accepted");
            } catch (VencException e) {
                assertEquals(VencException.ERR_UNKNOWN_KEY, e.status());
                assertTrue(e.getMessage(), e.getMessage().contains("\"bitrat\""));
            }
            try {
                cfg.set("qp", "99");
                fail("bad value accepted");
            } catch (VencException e) {
                assertEquals(VencException.ERR_BAD_VALUE, e.status());
                assertTrue(e.getMessage(), e.getMessage().contains("\"qp\""));
            }
            assertEquals("1500000", cfg.set("bitrate", "1.5M").get("bitrate"));
            assertTrue(cfg.get("keys").contains("queue_depth"));
            try {
                new VencEncoder(cfg).close();
                fail("encoder without a size");
            } catch (VencException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("width"));
            }
        }
    }

    @Test
    public void frameErrors() {
        try (VencEncoder enc = encoder()) {
            try {
                enc.sendFrame(VencFrame.allocate(VencPixFmt.I420, W * 2, H));
                fail("wrong size accepted");
            } catch (VencException e) {
                assertEquals(VencException.ERR_INVALID_ARG, e.status());
                assertTrue(e.getMessage(), e.getMessage().contains((W * 2) + "x" + H));
            }
            VencFrame shortPlane = testFrame(0);
            shortPlane.planes[0] = new byte[W * H - 1];
            try {
                enc.sendFrame(shortPlane);
                fail("short plane accepted");
            } catch (VencException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("plane 0"));
            }
            assertNull("nothing queued", enc.receivePacket(0));
            assertFalse(enc.isEndOfStream());
        }
    }

    @Test
    public void closedEncoderThrows() {
        VencEncoder enc = encoder();
        enc.close();
        enc.close();
        try {
            enc.drain();
            fail("drain after close");
        } catch (VencException e) {
            assertEquals(VencException.ERR_INVALID_STATE, e.status());
        }
    }

    @Test
    public void fourThreadsEachWithItsOwnEncoder() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<byte[]>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                final int bitrate = 300_000 + 100_000 * t;
                results.add(pool.submit(() -> {
                    try (VencEncoder enc = encoder("bitrate", Integer.toString(bitrate))) {
                        int[] pictures = {0};
                        byte[] data = encode(enc, 30, pictures);
                        assertEquals(30, pictures[0]);
                        return data;
                    }
                }));
            }
            for (int t = 0; t < 4; t++) {
                File f = tmp.newFile("t" + t + ".h264");
                Files.write(f.toPath(), results.get(t).get());
                assertEquals(30, ffmpegFrames(f));
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    public void imageEncodePng() throws Exception {
        byte[] png = VencEncoder.imageEncode(".png", testFrame(3), 0);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        File f = tmp.newFile("pic.png");
        Files.write(f.toPath(), png);
        assertEquals(1, ffmpegFrames(f));
        try {
            VencEncoder.imageEncode(".tiff", testFrame(0), 0);
            fail("tiff accepted");
        } catch (VencException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("tiff"));
        }
    }

    @Test
    public void chipsAndCaps() {
        String[] chips = VencEncoder.chips();
        assertEquals("generic", chips[0]);
        VencNative.venc_caps caps = VencEncoder.chipCaps("generic");
        assertTrue((caps.codecs & 1) != 0);
        assertTrue(caps.max_width > 0);
        try {
            VencEncoder.chipCaps("nope");
            fail("unknown chip accepted");
        } catch (VencException e) {
            assertEquals(VencException.ERR_INVALID_ARG, e.status());
        }
        assertEquals(VencEncoder.version(), VencNative.LIB.venc_version());
    }
}
