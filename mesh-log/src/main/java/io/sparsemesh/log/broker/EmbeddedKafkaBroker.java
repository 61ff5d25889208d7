package io.sparsemesh.log.broker;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A single-node Kafka broker in KRaft mode (broker and controller in one server) running in this
 * JVM on loopback, for the standalone mesh and for tests. Data lives under a directory the caller
 * owns, so the broker can be stopped and started again with its topics intact.
 *
 * <p>Needs {@code org.apache.kafka:kafka_2.13} on the class path, which {@code mesh-log} declares
 * as optional: add it where this class is used. Topics are created on first use with one
 * partition. NOTE: Kafka's own fatal-error handlers halt the JVM through
 * {@code org.apache.kafka.common.utils.Exit}, so a broker failure stops the process that hosts it.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final String HOST = "127.0.0.1";

    private final Path dataDirectory;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    /**
     * @param dataDirectory  directory for the broker's configuration and logs; formatted on first start
     * @param port           client port on 127.0.0.1, e.g. 9092
     * @param controllerPort KRaft controller port on 127.0.0.1, e.g. 9093
     */
    public EmbeddedKafkaBroker(Path dataDirectory, int port, int controllerPort) {
        if (port == controllerPort) {
            throw new IllegalArgumentException("the client and controller ports are both " + port + "; use two ports");
        }
        this.dataDirectory = dataDirectory.toAbsolutePath();
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /** Creates a broker on two free loopback ports, which it keeps across restarts. */
    public static EmbeddedKafkaBroker onFreePorts(Path dataDirectory) {
        try (ServerSocket client = new ServerSocket(0, 1, InetAddress.getByName(HOST));
             ServerSocket controller = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return new EmbeddedKafkaBroker(dataDirectory, client.getLocalPort(), controller.getLocalPort());
        } catch (IOException e) {
            throw new UncheckedIOException("failed to find two free ports on " + HOST, e);
        }
    }

    /**
     * Starts a broker on free ports with its data in a new temporary directory, and registers a
     * shutdown hook that stops it and deletes the directory when the JVM exits.
     */
    public static EmbeddedKafkaBroker startTemporary() {
        Path directory;
        try {
            directory = Files.createTempDirectory("sparsemesh-kafka");
        } catch (IOException e) {
            throw new UncheckedIOException("failed to create a temporary directory for the Kafka broker", e);
        }
        EmbeddedKafkaBroker broker = onFreePorts(directory);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.stop();
            deleteRecursively(directory);
        }, "embedded-kafka-cleanup"));
        broker.start();
        return broker;
    }

    /** Formats the storage unless it contains a broker's data already, then starts the broker and waits until it serves clients. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        long started = System.nanoTime();
        Properties properties = serverProperties();
        try {
            format(properties);
            KafkaRaftServer starting = new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
            starting.startup();
            server = starting;
        } catch (IOException e) {
            throw new UncheckedIOException("failed to prepare the Kafka data directory " + dataDirectory, e);
        }
        log.info("Embedded Kafka broker serves {} (data in {}), started in {} ms", bootstrapServers(), dataDirectory,
                (System.nanoTime() - started) / 1_000_000);
    }

    /** Stops the broker and waits for it to shut down; its data stays for the next {@link #start()}. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        server.shutdown();
        server.awaitShutdown();
        server = null;
        log.info("Embedded Kafka broker on {} stopped", bootstrapServers());
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Returns the {@code bootstrap.servers} value for clients: {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    @Override
    public void close() {
        stop();
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.warn("Failed to delete the Kafka data directory {}: {}", directory, e.toString());
        }
    }

    private Properties serverProperties() {
        Properties properties = new Properties();
        properties.setProperty("process.roles", "broker,controller");
        properties.setProperty("node.id", "1");
        properties.setProperty("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
        properties.setProperty("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + HOST + ":" + controllerPort);
        properties.setProperty("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
        properties.setProperty("controller.listener.names", "CONTROLLER");
        properties.setProperty("inter.broker.listener.name", "PLAINTEXT");
        properties.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        properties.setProperty("log.dirs", dataDirectory.resolve("logs").toString());
        properties.setProperty("num.partitions", "1");
        properties.setProperty("auto.create.topics.enable", "true");
        // One node: every internal topic has a single replica.
        properties.setProperty("offsets.topic.replication.factor", "1");
        properties.setProperty("offsets.topic.num.partitions", "1");
        properties.setProperty("transaction.state.log.replication.factor", "1");
        properties.setProperty("transaction.state.log.min.isr", "1");
        properties.setProperty("share.coordinator.state.topic.replication.factor", "1");
        properties.setProperty("share.coordinator.state.topic.min.isr", "1");
        properties.setProperty("group.initial.rebalance.delay.ms", "0");
        return properties;
    }

    private void format(Properties properties) throws IOException {
        if (Files.exists(dataDirectory.resolve("logs").resolve("meta.properties"))) {
            return;
        }
        Files.createDirectories(dataDirectory);
        Path config = dataDirectory.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            properties.store(out, "embedded KRaft broker");
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        String[] arguments = {"format", "--cluster-id", Uuid.randomUuid().toString(), "--config", config.toString()};
        int status;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            status = StorageTool.execute(arguments, print);
        }
        if (status != 0) {
            throw new IllegalStateException("formatting the Kafka storage in " + dataDirectory + " failed with status "
                    + status + ": " + output.toString(StandardCharsets.UTF_8));
        }
        log.debug("Kafka storage format: {}", output.toString(StandardCharsets.UTF_8).strip());
    }
}
