package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the kernel tests again in child JVMs set up differently from this one: with vectors
 * narrower than this machine's, so that the code for 4 and 8 float lanes (several vectors per
 * block, masked byte loads) runs, and without the Vector API module, so that the scalar backend
 * runs. The backend and species are fixed when the JVM first uses them, hence the child JVMs.
 */
class KernelBackendsTest {

    @ParameterizedTest(name = "{0}-bit vectors")
    @ValueSource(ints = {128, 256})
    void kernelTestsPassWithNarrowVectors(int bits) throws IOException, InterruptedException {
        assumeTrue(bits < Lanes.FLOATS.vectorBitSize(), "this machine's vectors are not wider than " + bits + " bits");

        String log = runChild(List.of("--add-modules", KernelBackend.VECTOR_MODULE, "-D" + Lanes.BITS_PROPERTY + "=" + bits),
                LanesTest.class, MatrixKernelTest.class, KernelPoolTest.class, MatmulAllocationTest.class);

        assertTrue(log.contains(bits + "-bit vectors (" + bits / 32 + " float lanes)"), "the child did not use " + bits + "-bit vectors:\n" + log);
    }

    @Test
    void kernelTestsPassWithoutVectorModule() throws IOException, InterruptedException {
        String log = runChild(List.of(), MatrixKernelTest.class, KernelPoolTest.class, MatrixViewTest.class);

        assertTrue(log.contains("Kernels: scalar loops"), "the child did not fall back to scalar kernels:\n" + log);
        assertTrue(log.contains("--add-modules " + KernelBackend.VECTOR_MODULE), "the warning should say how to enable the Vector API:\n" + log);
    }

    /** Runs {@code tests} in a child JVM with {@code jvmOptions}, asserts that all passed, and returns the child's output. */
    private static String runChild(List<String> jvmOptions, Class<?>... tests) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelBackendsTest.class.getName()));
        for (Class<?> test : tests) {
            command.add(test.getName());
        }
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = child.getInputStream().readAllBytes();
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the child JVM did not finish within 5 minutes");

        String log = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), "kernel tests failed in the child JVM " + jvmOptions + ":\n" + log);
        return log;
    }

    /** Entry point of a child JVM: runs the test classes named in {@code args} and exits with 1 if any failed. */
    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (String test : args) {
            request.selectors(DiscoverySelectors.selectClass(test));
        }
        LauncherDiscoveryRequest discovery = request.build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(discovery, listener);

        TestExecutionSummary summary = listener.getSummary();
        summary.printFailuresTo(new PrintWriter(System.out, true, StandardCharsets.UTF_8), 20);
        System.out.println(summary.getTestsSucceededCount() + " tests passed, " + summary.getTotalFailureCount() + " failed");
        System.exit(summary.getTotalFailureCount() == 0 && summary.getTestsSucceededCount() > 0 ? 0 : 1);
    }
}
