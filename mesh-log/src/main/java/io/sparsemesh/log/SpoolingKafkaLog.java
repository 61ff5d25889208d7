package io.sparsemesh.log;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link MeshLog} that delivers records to Kafka through an idempotent producer with
 * {@code acks=all}, and keeps them in an on-disk {@link Spool} until the broker acknowledges them.
 *
 * <p>Path of a record: {@link #publish} serialises it and puts it on a bounded in-memory queue
 * (the caller never waits for the disk or the network); the {@code mesh-log-spool} thread appends
 * it to its topic's spool; the {@code mesh-log-sender} thread sends each topic's spool in order,
 * in batches, and advances the spool's cursor past the acknowledged records. While the broker is
 * unreachable the sender retries with a backoff doubling up to
 * {@link KafkaLogSettings#maxReconnectBackoff()} and records pile up in the spool, up to
 * {@link KafkaLogSettings#spoolMaxBytes()} per topic; when the broker returns the backlog goes out
 * in its original order. A restarted process resumes from the spool left on disk.
 *
 * <p>Delivery is at least once: a record acknowledged just before a crash, or whose
 * acknowledgement was lost in a disconnect, may be sent again. Records are dropped only when the
 * queue or a spool is full, when the spool cannot be written, or when the broker rejects a record
 * as too large; each drop is counted in {@code sparsemesh.log.records.dropped{topic,reason}} and
 * logged at most every 10 seconds per reason.
 */
public final class SpoolingKafkaLog implements MeshLog {

    private static final Logger log = LoggerFactory.getLogger(SpoolingKafkaLog.class);

    private static final int MAX_BATCH_RECORDS = 500;
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int BACKOFF_STEPS = 20;
    private static final Duration CLOSE_FLUSH_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration THREAD_JOIN_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DROP_LOG_INTERVAL = Duration.ofSeconds(10);
    private static final Set<String> FIXED_PRODUCER_PROPERTIES = Set.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.ACKS_CONFIG, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

    /** Why a record was dropped: the {@code reason} tag of the drop counter. */
    public enum DropReason {
        /** The in-memory queue in front of the spool was full. */
        QUEUE_FULL,
        /** The topic's spool had reached its bound. */
        SPOOL_FULL,
        /** The spool could not be written. */
        SPOOL_ERROR,
        /** The broker rejected the record as too large; retrying cannot help. */
        REJECTED,
        /** The record was published after {@link #close()}. */
        CLOSED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private enum BrokerState { UNKNOWN, CONNECTED, DISCONNECTED }

    private final KafkaLogSettings settings;
    private final MeterRegistry registry;
    private final FileChannel lockChannel;
    private final FileLock directoryLock;
    private final Map<String, TopicSpool> spools = new ConcurrentHashMap<>();
    private final BlockingQueue<PendingRecord> queue;
    private final Producer<byte[], byte[]> producer;
    private final Map<DropReason, RateLimitedLog> dropLogs = new HashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread appender;
    private final Thread sender;

    private volatile boolean closing;
    private volatile long closeDeadlineNanos;
    private volatile BrokerState state = BrokerState.UNKNOWN;
    private long backlogAtReconnect;

    private SpoolingKafkaLog(KafkaLogSettings settings, MeterRegistry registry, FileChannel lockChannel,
                             FileLock directoryLock) {
        this.settings = settings;
        this.registry = registry;
        this.lockChannel = lockChannel;
        this.directoryLock = directoryLock;
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        for (DropReason reason : DropReason.values()) {
            dropLogs.put(reason, new RateLimitedLog(log, DROP_LOG_INTERVAL));
        }
        Gauge.builder("sparsemesh.log.broker.connected", this, log -> log.state == BrokerState.CONNECTED ? 1 : 0)
                .description("1 while the last delivery to Kafka succeeded, else 0")
                .register(registry);
        Gauge.builder("sparsemesh.log.queue.records", queue, BlockingQueue::size)
                .description("Records waiting in memory to be written to the spool")
                .register(registry);
        this.producer = new KafkaProducer<>(producerProperties(settings));
        this.appender = Thread.ofPlatform().daemon().name("mesh-log-spool").unstarted(this::appendLoop);
        this.sender = Thread.ofPlatform().daemon().name("mesh-log-sender").unstarted(this::sendLoop);
    }

    /**
     * Opens the spool directory (resuming any records left there), connects the producer and
     * starts the spool and sender threads.
     *
     * @throws IllegalStateException when another log uses the spool directory
     * @throws UncheckedIOException  when the spool directory cannot be opened
     */
    public static SpoolingKafkaLog open(KafkaLogSettings settings, MeterRegistry registry) {
        Path directory = settings.spoolDirectory();
        FileChannel lockChannel = null;
        try {
            Files.createDirectories(directory);
            lockChannel = FileChannel.open(directory.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = tryLock(lockChannel);
            if (lock == null) {
                throw new IllegalStateException("the spool directory " + directory + " is in use by another Kafka log"
                        + " (in this or another process); give each process its own spool directory");
            }
            SpoolingKafkaLog kafkaLog = new SpoolingKafkaLog(settings, registry, lockChannel, lock);
            kafkaLog.openExistingSpools();
            kafkaLog.appender.start();
            kafkaLog.sender.start();
            log.info("Kafka log started: brokers {}, client id {}, spool {} (at most {} bytes per topic)",
                    settings.bootstrapServers(), settings.clientId(), directory, settings.spoolMaxBytes());
            return kafkaLog;
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new UncheckedIOException("failed to open the Kafka log spool directory " + directory, e);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    @Override
    public void publish(LogRecord record) {
        if (closing) {
            drop(record.topic(), DropReason.CLOSED, 1);
            return;
        }
        byte[] key = record.key() == null ? new byte[0] : record.key().getBytes(StandardCharsets.UTF_8);
        PendingRecord pending = new PendingRecord(record.topic(), key, LogRecordJson.toJson(record));
        if (!queue.offer(pending)) {
            drop(record.topic(), DropReason.QUEUE_FULL, 1);
        }
    }

    /** Records accepted but not yet acknowledged by the broker: in the queue and in the spools. */
    public long pendingRecords() {
        long pending = queue.size();
        for (TopicSpool spool : spools.values()) {
            pending += spool.spool.pendingRecords();
        }
        return pending;
    }

    /** Returns whether the last delivery attempt succeeded. */
    public boolean brokerConnected() {
        return state == BrokerState.CONNECTED;
    }

    /**
     * Stops accepting records, writes the queued ones to the spool, gives the sender up to
     * 5 seconds to deliver the spool unless the broker is known to be unreachable, and closes the
     * producer. What is left stays in the spool for the next start.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeDeadlineNanos = System.nanoTime() + CLOSE_FLUSH_TIMEOUT.toNanos();
        closing = true;
        join(appender);
        LockSupport.unpark(sender);
        if (state == BrokerState.DISCONNECTED) {
            sender.interrupt();
        }
        join(sender);
        producer.close(Duration.ofSeconds(2));
        long left = 0;
        for (TopicSpool spool : spools.values()) {
            left += spool.spool.pendingRecords();
            closeQuietly(spool.spool);
        }
        try {
            directoryLock.release();
        } catch (IOException e) {
            log.warn("Failed to release the lock on spool directory {}: {}", settings.spoolDirectory(), e.toString());
        }
        closeQuietly(lockChannel);
        log.info("Kafka log closed; {} records remain in the spool {}", left, settings.spoolDirectory());
    }

    private void appendLoop() {
        try {
            while (!closing || !queue.isEmpty()) {
                PendingRecord record = queue.poll(IDLE_WAIT_NANOS, TimeUnit.NANOSECONDS);
                if (record != null) {
                    append(record);
                    LockSupport.unpark(sender);
                }
            }
        } catch (InterruptedException e) {
            log.warn("Spool thread interrupted; {} queued records were not written to the spool", queue.size());
            Thread.currentThread().interrupt();
        }
    }

    private void append(PendingRecord record) {
        TopicSpool topic;
        try {
            topic = spool(record.topic());
        } catch (UncheckedIOException e) {
            drop(record.topic(), DropReason.SPOOL_ERROR, 1, e.getCause());
            return;
        }
        try {
            if (!topic.spool.append(record.key(), record.value())) {
                drop(record.topic(), DropReason.SPOOL_FULL, 1);
            }
        } catch (UncheckedIOException e) {
            drop(record.topic(), DropReason.SPOOL_ERROR, 1, e.getCause());
        }
    }

    private void sendLoop() {
        long initialBackoff = Math.max(1, settings.maxReconnectBackoff().toNanos() / BACKOFF_STEPS);
        long backoff = initialBackoff;
        while (!Thread.currentThread().isInterrupted()) {
            if (closing && (state == BrokerState.DISCONNECTED || System.nanoTime() > closeDeadlineNanos
                    || (!appender.isAlive() && pendingInSpools() == 0))) {
                return;
            }
            int sent = 0;
            Throwable failure = null;
            for (TopicSpool topic : spools.values()) {
                try {
                    sent += sendBatch(topic);
                } catch (DeliveryFailedException e) {
                    failure = e.getCause();
                    break;
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (failure != null) {
                markDisconnected(failure);
                try {
                    // Sleep rather than park: new records unpark the sender, which must not cut the backoff short.
                    Thread.sleep(Duration.ofNanos(backoff));
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(backoff * 2, settings.maxReconnectBackoff().toNanos());
            } else if (sent > 0) {
                markDelivered(sent);
                backoff = initialBackoff;
            } else {
                LockSupport.parkNanos(IDLE_WAIT_NANOS);
            }
        }
    }

    /** Sends the next batch of one topic and commits the acknowledged prefix; returns the records delivered. */
    private int sendBatch(TopicSpool topic) throws DeliveryFailedException, InterruptedException {
        List<SpooledRecord> batch = topic.spool.peek(MAX_BATCH_RECORDS);
        if (batch.isEmpty()) {
            return 0;
        }
        List<Future<RecordMetadata>> acks = new ArrayList<>(batch.size());
        Throwable failure = null;
        try {
            for (SpooledRecord record : batch) {
                byte[] key = record.key().length == 0 ? null : record.key();
                Future<RecordMetadata> ack = producer.send(new ProducerRecord<>(topic.name, key, record.value()));
                acks.add(ack);
                if (ack.isDone()) {
                    // Failed at once, e.g. no metadata within max.block.ms: every further send would wait as long.
                    break;
                }
            }
        } catch (InterruptException e) {
            throw new InterruptedException("interrupted while sending to Kafka");
        } catch (KafkaException e) {
            failure = e;
        }

        long waitNanos = settings.deliveryTimeout().multipliedBy(2).plusSeconds(5).toNanos();
        int acknowledged = 0;
        for (Future<RecordMetadata> ack : acks) {
            try {
                ack.get(waitNanos, TimeUnit.NANOSECONDS);
                acknowledged++;
            } catch (ExecutionException e) {
                failure = e.getCause();
                break;
            } catch (TimeoutException e) {
                failure = e;
                break;
            }
        }

        if (acknowledged > 0) {
            topic.spool.commit(batch.get(acknowledged - 1), acknowledged);
            topic.sent.increment(acknowledged);
        }
        if (failure instanceof RecordTooLargeException || failure instanceof RecordBatchTooLargeException) {
            topic.spool.commit(batch.get(acknowledged), 1);
            drop(topic.name, DropReason.REJECTED, 1, failure);
            return acknowledged;
        }
        if (failure != null) {
            throw new DeliveryFailedException(failure);
        }
        return acknowledged;
    }

    private void markDelivered(int sent) {
        long backlog = pendingInSpools();
        if (state != BrokerState.CONNECTED) {
            if (state == BrokerState.DISCONNECTED) {
                log.info("Kafka at {} is reachable again; sending {} spooled records", settings.bootstrapServers(),
                        backlog + sent);
                backlogAtReconnect = backlog + sent;
            } else {
                log.info("Connected to Kafka at {}", settings.bootstrapServers());
            }
            state = BrokerState.CONNECTED;
        }
        if (backlogAtReconnect > 0 && backlog == 0) {
            log.info("Spool flushed: {} records that waited for Kafka were delivered", backlogAtReconnect);
            backlogAtReconnect = 0;
        }
    }

    private void markDisconnected(Throwable failure) {
        if (state != BrokerState.DISCONNECTED) {
            log.warn("Kafka at {} is unreachable ({}); keeping records in the spool {} until it returns",
                    settings.bootstrapServers(), failure.toString(), settings.spoolDirectory());
            state = BrokerState.DISCONNECTED;
        } else {
            log.debug("Kafka at {} is still unreachable: {}", settings.bootstrapServers(), failure.toString());
        }
    }

    private long pendingInSpools() {
        long pending = 0;
        for (TopicSpool topic : spools.values()) {
            pending += topic.spool.pendingRecords();
        }
        return pending;
    }

    private void drop(String topic, DropReason reason, int count) {
        drop(topic, reason, count, null);
    }

    private void drop(String topic, DropReason reason, int count, Throwable cause) {
        Counter.builder("sparsemesh.log.records.dropped")
                .description("Log records dropped before reaching Kafka")
                .tag("topic", topic)
                .tag("reason", reason.tag())
                .register(registry)
                .increment(count);
        dropLogs.get(reason).warn("Dropped a log record for topic " + topic + ": " + reason.tag(),
                cause == null ? "spool " + settings.spoolDirectory() : cause.toString());
    }

    private TopicSpool spool(String topic) {
        return spools.computeIfAbsent(topic, name -> {
            try {
                return new TopicSpool(name, Spool.open(settings.spoolDirectory().resolve(name), settings.spoolMaxBytes()));
            } catch (IOException e) {
                throw new UncheckedIOException("failed to open the spool of topic " + name, e);
            }
        });
    }

    private void openExistingSpools() throws IOException {
        try (var entries = Files.list(settings.spoolDirectory())) {
            for (Path entry : entries.filter(Files::isDirectory).sorted().toList()) {
                spool(entry.getFileName().toString());
            }
        }
    }

    private static Map<String, Object> producerProperties(KafkaLogSettings settings) {
        for (String key : settings.producerProperties().keySet()) {
            if (FIXED_PRODUCER_PROPERTIES.contains(key)) {
                throw new IllegalArgumentException("the producer property " + key + " is fixed by the Kafka log;"
                        + " remove it from the producer properties");
            }
        }
        long deliveryMillis = settings.deliveryTimeout().toMillis();
        Map<String, Object> properties = new HashMap<>(settings.producerProperties());
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        properties.put(ProducerConfig.CLIENT_ID_CONFIG, settings.clientId());
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        properties.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) deliveryMillis);
        properties.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) (deliveryMillis / 2));
        properties.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, deliveryMillis / 2);
        properties.putIfAbsent(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, settings.maxReconnectBackoff().toMillis());
        return properties;
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private static void join(Thread thread) {
        try {
            if (!thread.join(THREAD_JOIN_TIMEOUT)) {
                log.warn("Thread {} did not stop within {}; interrupting it", thread.getName(), THREAD_JOIN_TIMEOUT);
                thread.interrupt();
                thread.join(THREAD_JOIN_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("Failed to close {}: {}", closeable, e.toString());
        }
    }

    /** A serialised record on its way to the spool. */
    private record PendingRecord(String topic, byte[] key, byte[] value) {
    }

    /** One topic's spool and meters. */
    private final class TopicSpool {
        final String name;
        final Spool spool;
        final Counter sent;

        TopicSpool(String name, Spool spool) {
            this.name = name;
            this.spool = spool;
            this.sent = Counter.builder("sparsemesh.log.records.sent")
                    .description("Log records the Kafka broker acknowledged")
                    .tag("topic", name)
                    .register(registry);
            Gauge.builder("sparsemesh.log.spool.records", spool, Spool::pendingRecords)
                    .description("Records in the spool waiting for the Kafka broker")
                    .tag("topic", name)
                    .strongReference(true)
                    .register(registry);
            Gauge.builder("sparsemesh.log.spool.bytes", spool, Spool::pendingBytes)
                    .description("Bytes of records in the spool waiting for the Kafka broker")
                    .tag("topic", name)
                    .baseUnit("bytes")
                    .strongReference(true)
                    .register(registry);
        }
    }

    /** A batch stopped at a record the broker did not acknowledge. */
    private static final class DeliveryFailedException extends Exception {
        DeliveryFailedException(Throwable cause) {
            super(cause);
        }
    }
}
