package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * Runs the kernel tests again in a child JVM whose vectors are narrower than this machine's, so
 * that the code paths for 4 and 8 float lanes (several vectors per block, masked byte loads) are
 * tested too. The species is fixed when {@link Lanes} loads, hence the separate JVM.
 */
class NarrowVectorsTest {

    private static final List<Class<?>> KERNEL_TESTS = List.of(LanesTest.class, MatrixKernelTest.class, KernelPoolTest.class);

    @ParameterizedTest(name = "{0}-bit vectors")
    @ValueSource(ints = {128, 256})
    void kernelTestsPassWithNarrowVectors(int bits) throws IOException, InterruptedException {
        assumeTrue(bits < Lanes.FLOATS.vectorBitSize(), "this machine's vectors are not wider than " + bits + " bits");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "--add-modules", KernelBackend.VECTOR_MODULE,
                "-D" + Lanes.BITS_PROPERTY + "=" + bits, "-cp", System.getProperty("java.class.path"),
                NarrowVectorsTest.class.getName())
                .redirectErrorStream(true);
        Process child = builder.start();
        byte[] output = child.getInputStream().readAllBytes();
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the child JVM did not finish within 5 minutes");

        String log = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), "kernel tests failed with " + bits + "-bit vectors:\n" + log);
        assertTrue(log.contains(bits + "-bit vectors (" + bits / 32 + " float lanes)"), "the child did not use " + bits + "-bit vectors:\n" + log);
    }

    /** Entry point of the child JVM: runs {@link #KERNEL_TESTS} and exits with 1 if any failed. */
    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        KERNEL_TESTS.forEach(test -> request.selectors(DiscoverySelectors.selectClass(test)));
        LauncherDiscoveryRequest discovery = request.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(discovery, listener);

        TestExecutionSummary summary = listener.getSummary();
        summary.printFailuresTo(new java.io.PrintWriter(System.out, true, StandardCharsets.UTF_8), 20);
        System.out.println(summary.getTestsSucceededCount() + " tests passed, " + summary.getTotalFailureCount() + " failed");
        System.exit(summary.getTotalFailureCount() == 0 && summary.getTestsSucceededCount() > 0 ? 0 : 1);
    }
}
